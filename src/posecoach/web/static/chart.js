// Interactive time-series charts (zoom by dragging, hover values, click to seek) on the vendored uPlot.
import uPlot from './vendor/uplot/uPlot.esm.js';

const COLORS = ['#1769e0', '#e07b17', '#138a4b', '#8e44ad', '#c62828', '#00838f', '#6d4c41', '#546e7a'];
let cssLoaded = false;

function loadCss() {
  if (cssLoaded) return;
  document.head.append(Object.assign(document.createElement('link'),
    { rel: 'stylesheet', href: '/static/vendor/uplot/uPlot.min.css' }));
  cssLoaded = true;
}

// Shaded spans drawn behind the lines: [{ start, end, kind }] in x units; kind 'error' is red, else blue.
function spansPlugin(spans) {
  return {
    hooks: {
      drawClear: (u) => {
        const { ctx } = u;
        const top = u.bbox.top, height = u.bbox.height;
        for (const s of spans) {
          const x0 = u.valToPos(s.start, 'x', true), x1 = u.valToPos(s.end, 'x', true);
          ctx.fillStyle = s.kind === 'error' ? 'rgba(198,40,40,0.16)' : 'rgba(23,105,224,0.10)';
          ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
        }
      },
    },
  };
}

// Dates: a day either side of a single session, 5 % either side of a span.
function padRange(u, min, max) {
  if (min === null || max === null) return [min, max];
  const pad = max > min ? 0.05 * (max - min) : 86400;
  return [min - pad, max + pad];
}

/**
 * lineChart(container, { x: number[], series: [{ label, values, color? }], spans?, xLabel?, yLabel?,
 *                        height?, time? (x in Unix seconds, shown as dates), onClick?(x) }) -> { plot, setCursor(x), destroy() }
 * Missing values are null/NaN (gaps). The chart follows the container's width.
 */
export function lineChart(container, opts) {
  loadCss();
  const width = () => Math.max(280, container.clientWidth || 600);
  const data = [opts.x, ...opts.series.map((s) => s.values.map((v) => (Number.isFinite(v) ? v : null)))];
  const plot = new uPlot({
    width: width(), height: opts.height || 260,
    scales: { x: { time: !!opts.time, range: opts.time ? padRange : undefined } },
    axes: [{ label: opts.xLabel || 'time (s)' }, { label: opts.yLabel || '' }],
    series: [{ label: opts.xLabel || 't' },
      ...opts.series.map((s, i) => ({ label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: 1.5,
                                      spanGaps: !!opts.time, points: { show: opts.time ? true : undefined, size: 7 } }))],
    plugins: [spansPlugin(opts.spans || [])],
    cursor: { drag: { x: true, y: false } },
  }, data, container);
  if (opts.onClick) {
    plot.over.addEventListener('click', () => {
      const idx = plot.cursor.idx;
      if (idx !== null && idx !== undefined) opts.onClick(opts.x[idx]);
    });
  }
  const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: opts.height || 260 }));
  resize.observe(container);
  return {
    plot,
    setCursor(x) { plot.setCursor({ left: plot.valToPos(x, 'x'), top: 10 }); },
    destroy() { resize.disconnect(); plot.destroy(); },
  };
}
