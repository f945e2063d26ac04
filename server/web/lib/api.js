// A small client for the locker's JSON API. Every answer comes back as
// {status, body, retryAfter}; a network failure is status 0, so callers handle one shape.

export async function call(method, path, { body, token, signal } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    return { status: 0, body: null, retryAfter: null };
  }
  let parsed = null;
  const text = await res.text();
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  const ra = Number(res.headers.get('retry-after'));
  return { status: res.status, body: parsed, retryAfter: Number.isFinite(ra) && ra > 0 ? ra : null };
}

/** A bearer session kept for this browser tab only (sessionStorage): closing the tab logs out. */
export class Session {
  constructor(key, roles) {
    this.key = key;
    this.roles = roles;
    this.onExpired = () => {};
  }

  get() {
    try {
      const s = JSON.parse(sessionStorage.getItem(this.key) ?? 'null');
      if (!s || !s.token || !(s.until > Date.now())) return null;
      return s;
    } catch {
      return null;
    }
  }

  async login(username, password) {
    const r = await call('POST', '/api/v1/session', { body: { username, password } });
    if (r.status === 200) {
      if (!this.roles.includes(r.body.role)) return { ok: false, reason: 'role', status: 403 };
      // The deadline by this browser's clock, which need not agree with the locker's.
      const s = { token: r.body.token, role: r.body.role, username, expiresAt: r.body.expiresAt, until: Date.now() + r.body.expiresIn * 1000 };
      sessionStorage.setItem(this.key, JSON.stringify(s));
      return { ok: true, session: s };
    }
    return { ok: false, reason: r.status === 429 ? 'throttled' : r.status === 401 ? 'credentials' : r.status === 0 ? 'network' : 'other', status: r.status, retryAfter: r.retryAfter, body: r.body };
  }

  /** Forgets the token here and revokes it on the locker, so a shared screen keeps no live session. */
  logout() {
    const s = this.get();
    sessionStorage.removeItem(this.key);
    if (s) call('DELETE', '/api/v1/session', { token: s.token }).catch(() => {});
  }

  /** An authenticated call; a 401 ends the session and tells the page. */
  async call(method, path, body) {
    const s = this.get();
    if (!s) {
      this.onExpired();
      return { status: 401, body: { error: 'unauthorized', message: 'Log in first.' }, retryAfter: null };
    }
    const r = await call(method, path, { body, token: s.token });
    if (r.status === 401) {
      this.logout();
      this.onExpired();
    }
    return r;
  }
}
