// The app shell: sign-in, navigation and the page router. Each page is a module `pages/<name>.js`
// exporting `render(root, ctx)`; ctx = { user, signal } where `signal` aborts when the user leaves the
// page. `render` may return a cleanup function (stop the camera, close sockets).
import { ApiError, me, signIn, signOut } from './api.js';
import { clearBanner, guard, h, showBanner } from './ui.js';

const PAGES = ['analyse', 'live', 'compare', 'falls', 'posture', 'history'];
const root = document.getElementById('page');
let user = null;
let leave = null;  // { controller, cleanup } of the page shown

function signInForm() {
  const key = h('input', { id: 'api-key', type: 'password', autocomplete: 'current-password', required: true,
                           placeholder: 'pc_…', 'aria-label': 'API key' });
  const form = h('form', { id: 'sign-in', class: 'card narrow' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Enter the API key your administrator gave you (', h('code', {}, 'posecoach users add NAME'),
      ' prints one).'),
    h('label', {}, 'API key', key),
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guard(async () => {
      try { user = await signIn(key.value.trim()); } catch (err) {
        if (err instanceof ApiError && err.status === 422) throw new ApiError(422, 'enter your API key');
        throw err;
      }
      clearBanner();
      showUser();
      if (!location.hash || location.hash === '#/signin') location.hash = '#/analyse';
      else route();
    });
  });
  return form;
}

function showUser() {
  document.getElementById('nav').hidden = !user;
  document.getElementById('who').hidden = !user;
  document.getElementById('who-name').textContent = user ? `${user.name} (${user.role})` : '';
}

async function route() {
  if (leave) { leave.controller.abort(); if (leave.cleanup) await guard(leave.cleanup); leave = null; }
  clearBanner();
  root.replaceChildren();
  if (!user) { root.append(signInForm()); document.getElementById('api-key').focus(); return; }
  const name = (location.hash.replace(/^#\/?/, '').split('?')[0]) || 'analyse';
  if (!PAGES.includes(name)) { location.hash = '#/analyse'; return; }
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name);
  closeMenu();
  const controller = new AbortController();
  leave = { controller, cleanup: null };
  document.title = `PoseCoach · ${name[0].toUpperCase()}${name.slice(1)}`;
  const mod = await import(`./pages/${name}.js`);
  const cleanup = await guard(() => mod.render(root, { user, signal: controller.signal }));
  if (leave && leave.controller === controller) leave.cleanup = typeof cleanup === 'function' ? cleanup : null;
}

function closeMenu() {
  document.getElementById('nav').classList.remove('open');
  document.querySelector('.menu-toggle').setAttribute('aria-expanded', 'false');
}

document.querySelector('.menu-toggle').addEventListener('click', (e) => {
  const open = document.getElementById('nav').classList.toggle('open');
  e.currentTarget.setAttribute('aria-expanded', String(open));
});
document.getElementById('sign-out').addEventListener('click', () => guard(async () => {
  await signOut();
  user = null;
  showUser();
  route();
}));
window.addEventListener('hashchange', route);

(async () => {
  try { user = await me(); } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) showBanner(e.message);
  }
  showUser();
  route();
})();
