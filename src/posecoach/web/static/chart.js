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

// Dates: from the data's own first and last time (uPlot widens a single point by 86400 / ms, 1000 days when x is
// in seconds: a 3-year axis), 5 % either side, and at least half a day either side (sessions of one day are
// shown over a day, in hours, not in milliseconds).
function padRange(u, min, max) {
  const xs = u.data?.[0] || [];
  const lo = xs.length ? xs[0] : min, hi = xs.length ? xs[xs.length - 1] : max;
  if (lo === null || hi === null) return [min, max];
  const pad = Math.max(0.05 * (hi - lo), 43200);
  return [lo - pad, hi + pad];
}

// The y scale: [min, max] fixed (a 0-100 score), 'zero' (from 0 to a little over the largest value: counts), else
// uPlot's own.
function yScale(yRange) {
  if (Array.isArray(yRange)) return { range: () => yRange };
  if (yRange === 'zero') return { range: (_u, _min, max) => [0, max === null || max <= 0 ? 1 : Math.ceil(max * 1.15 * 10) / 10] };
  return {};
}

/**
 * lineChart(container, { x: number[], series: [{ label, values, color? }], spans?, xLabel?, yLabel?, yRange?,
 *                        height?, time? (x in Unix seconds, shown as dates), onClick?(x) }) -> { plot, setCursor(x), destroy() }
 * Missing values are null/NaN (gaps). The chart follows the container's width.
 */
export function lineChart(container, opts) {
  loadCss();
  const width = () => Math.max(280, container.clientWidth || 600);
  const data = [opts.x, ...opts.series.map((s) => s.values.map((v) => (Number.isFinite(v) ? v : null)))];
  const plot = new uPlot({
    width: width(), height: opts.height || 260,
    scales: { x: { time: !!opts.time, range: opts.time ? padRange : undefined }, y: yScale(opts.yRange) },
    axes: [{ label: opts.xLabel || 'time (s)' }, { label: opts.yLabel || '' }],
    series: [{ label: opts.xLabel || 't' },
      ...opts.series.map((s, i) => ({ label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: 1.5,
                                      spanGaps: !!opts.time, points: { show: opts.time ? true : undefined, size: 7 } }))],
    plugins: [spansPlugin(opts.spans || [])],
    // the scales' ranges on the container, for people's tools and the tests (one session must not span years)
    hooks: { setScale: [(u, key) => {
      if (key !== 'x' && key !== 'y') return;
      const sc = u.scales[key];
      if (sc.min !== null && sc.max !== null) Object.assign(container.dataset, { [`${key}Min`]: sc.min, [`${key}Max`]: sc.max });
    }] },
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
