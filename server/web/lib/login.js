// The login form shared by the staff console and the auditor view.
export function wireLogin({ form, user, password, note, session, i18n, onLoggedIn }) {
  let lastKey = null;
  let lastVars = {};
  const say = (key, vars = {}) => {
    lastKey = key;
    lastVars = vars;
    note.textContent = i18n.t(key, vars);
    note.hidden = false;
  };
  i18n.onChange(() => {
    if (lastKey && !note.hidden) note.textContent = i18n.t(lastKey, lastVars);
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
    else say('failed', { message: r.body?.message ?? r.status });
    password.focus();
  });
}
