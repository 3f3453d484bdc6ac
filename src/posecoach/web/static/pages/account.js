// Account: your password, one-time codes (clinicians and admins), your API keys for programs (create, revoke,
// rotate; a new key is shown once), sign out everywhere; an admin also manages the accounts (add, disable,
// enable, reset a password).
import { api } from '../api.js';
import { fmtDate, guard, h, showBanner } from '../ui.js';

const field = (label, input) => h('label', {}, label, input);

function shownOnce(title, secret, id) {
  return h('div', { class: 'card', id },
    h('p', {}, title, ' (shown this once: copy it now)'), h('code', { class: 'secret' }, secret));
}

function passwordCard(account) {
  const current = h('input', { id: 'current-password', type: 'password', autocomplete: 'current-password' });
  const next = h('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', minlength: 10 });
  const form = h('form', { id: 'password-form', class: 'card' }, h('h2', {}, account.password ? 'Change your password' : 'Set a password'),
    account.password ? field('Current password', current) : null, field('New password (at least 10 characters)', next),
    h('button', { type: 'submit' }, 'Save'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guard(async () => {
      await api('/v1/me/password', { method: 'PUT', json: { current_password: current.value || null, new_password: next.value } });
      current.value = ''; next.value = '';
      showBanner('Password saved; your other sessions were signed out.', 'notice');
    });
  });
  return form;
}

function totpCard(user, account, reload) {
  if (!['clinician', 'admin'].includes(user.role)) return null;
  const box = h('section', { class: 'card', id: 'totp' }, h('h2', {}, 'One-time codes'));
  const code = h('input', { id: 'totp-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 8 });
  if (account.totp) {
    box.append(h('p', {}, 'On: signing in asks for the code your authenticator app shows.'),
      field('Current code', code),
      h('button', { class: 'secondary', onclick: () => guard(async () => {
        await api('/v1/me/totp/disable', { method: 'POST', json: { code: code.value.trim() } }); reload();
      }) }, 'Turn off'));
    return box;
  }
  const start = h('button', { id: 'totp-start', onclick: () => guard(async () => {
    const made = await api('/v1/me/totp', { method: 'POST' });
    start.hidden = true;
    box.append(h('p', {}, 'Add this secret to your authenticator app (or open the otpauth link on your phone), then enter the code it shows.'),
      shownOnce('Secret', made.secret, 'totp-secret'), h('p', {}, h('a', { href: made.otpauth_uri }, 'otpauth link')),
      field('Code', code), h('button', { id: 'totp-confirm', onclick: () => guard(async () => {
        await api('/v1/me/totp/confirm', { method: 'POST', json: { code: code.value.trim() } }); reload();
      }) }, 'Confirm'));
  }) }, 'Turn on');
  box.append(h('p', { class: 'muted' }, 'Off. With one-time codes on, a stolen password alone does not sign in.'), start);
  return box;
}

async function keysCard(user) {
  const box = h('section', { class: 'card', id: 'keys' }, h('h2', {}, 'API keys (for programs)'));
  const list = h('div', { class: 'table-wrap' });
  const fresh = h('div');
  const show = async () => {
    const keys = await api('/v1/keys');
    list.replaceChildren(keys.length ? h('table', { id: 'keys-table' },
      h('thead', {}, h('tr', {}, ...['Name', 'Starts', 'Scopes', 'State', 'Expires', 'Last used', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...keys.map((k) => h('tr', { dataset: { key: k.id } },
        h('td', {}, k.name), h('td', {}, h('code', {}, `${k.prefix}…`)), h('td', {}, k.scopes.join(' ')),
        h('td', {}, k.state), h('td', {}, k.expires_at ? fmtDate(k.expires_at) : 'never'),
        h('td', {}, k.last_used_at ? fmtDate(k.last_used_at) : '–'),
        h('td', {}, k.state === 'revoked' ? '' : [
          h('button', { class: 'secondary rotate', onclick: () => guard(async () => {
            const made = await api(`/v1/keys/${encodeURIComponent(k.id)}/rotate`, { method: 'POST' });
            fresh.replaceChildren(shownOnce(`New key for "${made.key.name}"`, made.api_key, 'new-key')); await show();
          }) }, 'Rotate'), ' ',
          h('button', { class: 'secondary revoke', onclick: () => guard(async () => {
            await api(`/v1/keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' }); await show();
          }) }, 'Revoke')]))))) : h('p', { class: 'muted' }, 'No keys.'));
  };
  const name = h('input', { id: 'key-name', type: 'text', maxlength: 100, placeholder: 'e.g. clinic upload script', required: true });
  const write = h('input', { id: 'key-write', type: 'checkbox', checked: true });
  const days = h('input', { id: 'key-days', type: 'number', min: 1, max: 3650, placeholder: 'never' });
  const form = h('form', { id: 'key-form' }, field('Name', name),
    h('label', { class: 'inline' }, write, ' may change data (else read only)'), field('Expires after (days)', days),
    h('button', { type: 'submit' }, 'Create key'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guard(async () => {
      const made = await api('/v1/keys', { method: 'POST', json: { name: name.value.trim(),
        scopes: write.checked ? ['read', 'write'] : ['read'], expires_in_days: days.value ? Number(days.value) : null } });
      fresh.replaceChildren(shownOnce(`Key "${made.key.name}"`, made.api_key, 'new-key'));
      name.value = ''; await show();
    });
  });
  box.append(fresh, list, form, h('p', { class: 'muted' }, 'Programs send a key as the X-API-Key header. ',
    user.role === 'admin' ? 'Keys for account administration (admin scope): posecoach keys create NAME --scopes read,write,admin.' : ''));
  await show();
  return box;
}

async function usersCard() {
  const box = h('section', { class: 'card', id: 'users' }, h('h2', {}, 'Accounts'));
  const list = h('div', { class: 'table-wrap' });
  const fresh = h('div');
  const act = (name, what, body) => guard(async () => {
    const done = await api(`/v1/users/${encodeURIComponent(name)}/${what}`, { method: 'POST', json: body });
    if (done?.password) fresh.replaceChildren(shownOnce(`New password of ${name}`, done.password, 'new-password-shown'));
    await show();
  });
  const show = async () => {
    const users = await api('/v1/users');
    list.replaceChildren(h('table', { id: 'users-table' },
      h('thead', {}, h('tr', {}, ...['Name', 'Role', 'Password', 'One-time codes', 'State', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...users.map((u) => h('tr', { dataset: { user: u.name } },
        h('td', {}, u.name), h('td', {}, u.role), h('td', {}, u.password ? 'set' : 'none'), h('td', {}, u.totp ? 'on' : 'off'),
        h('td', {}, u.disabled ? 'disabled' : 'active'),
        h('td', {}, h('button', { class: 'secondary', onclick: () => act(u.name, u.disabled ? 'enable' : 'disable') },
          u.disabled ? 'Enable' : 'Disable'), ' ',
        h('button', { class: 'secondary', onclick: () => act(u.name, 'reset', { clear_totp: false }) }, 'Reset password')))))));
  };
  const name = h('input', { id: 'user-name', type: 'text', maxlength: 100, required: true, autocomplete: 'off' });
  const role = h('select', { id: 'user-role' }, ...['user', 'clinician', 'admin'].map((r) => h('option', { value: r }, r)));
  const password = h('input', { id: 'user-password', type: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const form = h('form', { id: 'user-form' }, field('Name', name), field('Role', role), field('Password', password),
    h('button', { type: 'submit' }, 'Add account'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guard(async () => {
      await api('/v1/users', { method: 'POST', json: { name: name.value.trim(), role: role.value, password: password.value } });
      name.value = ''; password.value = ''; fresh.replaceChildren(); await show();
    });
  });
  box.append(fresh, list, form);
  await show();
  return box;
}

export async function render(root, ctx) {
  const { user } = ctx;
  const reload = () => { root.replaceChildren(); guard(() => render(root, ctx)); };
  const account = await api('/v1/me/account');
  root.append(h('section', { class: 'card' }, h('h1', {}, 'Account'),
    h('p', {}, `${account.name} (${account.role})`),
    h('button', { class: 'secondary', id: 'sign-out-everywhere', onclick: () => guard(async () => {
      await api('/v1/me/sessions', { method: 'DELETE' }); location.reload();
    }) }, 'Sign out everywhere')));
  root.append(passwordCard(account));
  const totp = totpCard(user, account, reload);
  if (totp) root.append(totp);
  root.append(await keysCard(user));
  if (user.role === 'admin') root.append(await usersCard());
}
