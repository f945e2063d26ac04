// The login form shared by the staff console and the auditor view.
import { errorText } from './error-text.js';

export function wireLogin({ form, user, password, note, session, i18n, onLoggedIn }) {
  let lastKey = null;
  let lastVars = {};
  // An error code the page has no words of its own for reads from the shared table (never the API's English message).
  const words = (key, vars) => (key === '@error' ? errorText(vars.code, i18n.lang) : i18n.t(key, vars));
  const say = (key, vars = {}) => {
    lastKey = key;
    lastVars = vars;
    note.textContent = words(key, vars);
    note.hidden = false;
  };
  i18n.onChange(() => {
    if (lastKey && !note.hidden) note.textContent = words(lastKey, lastVars);
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    note.hidden = true;
    lastKey = null;
    if (!user.value.trim() || !password.value) return say('loginMissing');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    const r = await session.login(user.value.trim(), password.value);
    button.disabled = false;
    password.value = '';
    if (r.ok) return onLoggedIn(r.session);
    if (r.reason === 'credentials') say(r.body?.error === 'account_disabled' ? 'loginDisabled' : 'loginWrong');
    else if (r.reason === 'throttled') say('loginThrottled', { n: r.retryAfter ?? 60 });
    else if (r.reason === 'role') say('loginRole');
    else if (r.reason === 'network') say('network');
    else say('@error', { code: r.body?.error ?? `HTTP ${r.status}` });
    password.focus();
  });
}
