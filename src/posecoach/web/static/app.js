// The app shell: sign-in, navigation and the page router. Each page is a module `pages/<name>.js`
// exporting `render(root, ctx)`; ctx = { user, signal } where `signal` aborts when the user leaves the
// page. `render` may return a cleanup function (stop the camera, close sockets).
import { ApiError, me, signIn, signOut } from './api.js';
import { clearBanner, guard, h, showBanner } from './ui.js';

const PAGES = ['analyse', 'live', 'compare', 'falls', 'posture', 'programmes', 'session', 'history', 'account'];
const root = document.getElementById('page');
let user = null;
let leave = null;  // { controller, cleanup } of the page shown

function signInForm() {
  const input = (id, type, label, extra = {}) => h('input', { id, type, 'aria-label': label, ...extra });
  const name = input('username', 'text', 'Username', { autocomplete: 'username', autocapitalize: 'none',
                                                        spellcheck: 'false' });
  const password = input('password', 'password', 'Password', { autocomplete: 'current-password' });
  const code = input('totp', 'text', 'One-time code', { autocomplete: 'one-time-code', inputmode: 'numeric',
                                                         maxlength: 8, placeholder: '123456' });
  const key = input('api-key', 'password', 'API key', { autocomplete: 'off', placeholder: 'pc_…' });
  const codeRow = h('label', { id: 'totp-row', hidden: true }, 'One-time code', code);
  const form = h('form', { id: 'sign-in', class: 'card narrow' },
    h('h1', {}, 'Sign in'),
    h('label', {}, 'Username', name),
    h('label', {}, 'Password', password),
    codeRow,
    h('details', {}, h('summary', {}, 'Sign in with an API key instead'),
      h('label', {}, 'API key', key)),
    h('button', { type: 'submit' }, 'Sign in'),
    h('p', { class: 'muted' }, 'No account yet? Your administrator makes one (',
      h('code', {}, 'posecoach users add NAME'), ').'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guard(async () => {
      const apiKey = key.value.trim();
      if (!apiKey && (!name.value.trim() || !password.value)) throw new ApiError(422, 'enter your username and password');
      const credentials = apiKey ? { api_key: apiKey }
        : { username: name.value.trim(), password: password.value, totp: code.value.trim() || undefined };
      try { user = await signIn(credentials); } catch (err) {
        if (err instanceof ApiError && err.status === 401 && /one-time code/.test(err.message)) {
          codeRow.hidden = false;  // the account has one-time codes on: ask for one
          code.focus();
        }
        throw err;
      }
      password.value = '';
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
  if (!user) { root.append(signInForm()); document.getElementById('username').focus(); return; }
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
