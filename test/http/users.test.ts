// Accounts over HTTP: admins only, the same actions as `locker user ...`, each audited with the
// admin as the actor.
import { afterEach, describe, expect, it } from 'vitest';
import { startLocker, type TestLocker } from '../helpers/locker.ts';

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

const login = (username: string, password: string) => t.api('POST', '/api/v1/session', { username, password });

function events(type: string) {
  return t.locker.ctx.store.db.prepare('SELECT actor, data FROM audit_events WHERE type = ? ORDER BY seq').all(type) as { actor: string; data: string }[];
}

describe('accounts in the staff console API', () => {
  it('lets an admin add, list, set a password, disable, enable and unlock accounts, each audited with the admin as actor', async () => {
    t = await startLocker();
    const admin = await t.login('admin', 'mai');
    const add = await t.api('POST', '/api/v1/users', { username: 'lan', role: 'staff', password: 'lan has a long password' }, admin);
    expect(add.status).toBe(201);
    expect(add.body).toMatchObject({ username: 'lan', role: 'staff', state: 'active', disabledAt: null, blockedUntil: null });
    const list = await t.api('GET', '/api/v1/users', undefined, admin);
    expect(list.status).toBe(200);
    expect(list.body.users.map((u: { username: string; role: string; state: string }) => [u.username, u.role, u.state])).toEqual([
      ['lan', 'staff', 'active'],
      ['mai', 'admin', 'active'],
    ]);
    expect(JSON.stringify(list.body)).not.toMatch(/scrypt|password/);

    const lanToken = (await login('lan', 'lan has a long password')).body.token;
    const pw = await t.api('POST', '/api/v1/users/lan/password', { password: 'a new long password' }, admin);
    expect(pw.status).toBe(200);
    expect((await t.api('GET', '/api/v1/compartments', undefined, lanToken)).status).toBe(401);
    const lanToken2 = (await login('lan', 'a new long password')).body.token;

    const off = await t.api('POST', '/api/v1/users/lan/disable', undefined, admin);
    expect(off.status).toBe(200);
    expect(off.body.state).toBe('disabled');
    expect((await t.api('GET', '/api/v1/compartments', undefined, lanToken2)).status).toBe(401);
    expect((await login('lan', 'a new long password')).body.error).toBe('account_disabled');
    const on = await t.api('POST', '/api/v1/users/lan/enable', undefined, admin);
    expect(on.body.state).toBe('active');

    for (let i = 0; i < 5; i++) await login('lan', `wrong-${i}-password`);
    expect((await t.api('GET', '/api/v1/users', undefined, admin)).body.users[0].state).toBe('blocked');
    const unlock = await t.api('POST', '/api/v1/users/lan/unlock', undefined, admin);
    expect(unlock.status).toBe(200);
    expect(unlock.body).toMatchObject({ wasBlocked: true, blockedAddresses: 0, user: { username: 'lan', state: 'active' } });
    expect((await login('lan', 'a new long password')).status).toBe(200);

    for (const type of ['user.created', 'user.password_changed', 'user.disabled', 'user.enabled']) {
      expect(events(type).at(-1), type).toEqual({ actor: 'staff:mai', data: type === 'user.created' ? '{"username":"lan","role":"staff"}' : '{"username":"lan"}' });
    }
    expect(events('user.unlocked')).toEqual([{ actor: 'staff:mai', data: '{"username":"lan","wasBlocked":true}' }]);
    const trail = JSON.stringify(t.locker.ctx.store.db.prepare('SELECT * FROM audit_events').all());
    expect(trail).not.toContain('long password');
  });

  it('answers 403 to clerks and auditors and 401 without a token, on every accounts endpoint', async () => {
    t = await startLocker();
    const admin = await t.login('admin', 'mai');
    await t.api('POST', '/api/v1/users', { username: 'lan', role: 'staff', password: 'lan has a long password' }, admin);
    const calls: [string, string, unknown][] = [
      ['GET', '/api/v1/users', undefined],
      ['POST', '/api/v1/users', { username: 'x1', role: 'admin', password: 'a long password' }],
      ['POST', '/api/v1/users/lan/password', { password: 'a long password' }],
      ['POST', '/api/v1/users/lan/disable', undefined],
      ['POST', '/api/v1/users/lan/enable', undefined],
      ['POST', '/api/v1/users/lan/unlock', undefined],
    ];
    for (const role of ['staff', 'auditor'] as const) {
      const token = await t.login(role);
      for (const [method, path, body] of calls) expect((await t.api(method, path, body, token)).status, `${role} ${method} ${path}`).toBe(403);
    }
    for (const [method, path, body] of calls) expect((await t.api(method, path, body)).status, `${method} ${path}`).toBe(401);
    expect(events('user.created').map((e) => JSON.parse(e.data).username)).not.toContain('x1');
  });

  it('refuses bad input with a clear 4xx: bad name, unknown role, short password, extra fields, unknown user, a duplicate', async () => {
    t = await startLocker();
    const admin = await t.login('admin', 'mai');
    const bad: [string, string, unknown, number, string][] = [
      ['POST', '/api/v1/users', { username: 'bad name', role: 'staff', password: 'a long password' }, 400, 'invalid_request'],
      ['POST', '/api/v1/users', { username: 'lan', role: 'root', password: 'a long password' }, 400, 'invalid_request'],
      ['POST', '/api/v1/users', { username: 'lan', role: 'staff', password: 'short' }, 400, 'weak_password'],
      ['POST', '/api/v1/users', { username: 'lan', role: 'staff', password: 'a long password', admin: true }, 400, 'invalid_request'],
      ['POST', '/api/v1/users', { username: 'lan', role: 'staff' }, 400, 'invalid_request'],
      ['POST', '/api/v1/users', 'not json', 400, 'invalid_json'],
      ['POST', '/api/v1/users/mai/password', { password: 'x'.repeat(257) }, 400, 'invalid_request'],
      ['POST', '/api/v1/users/nobody/password', { password: 'a long password' }, 404, 'not_found'],
      ['POST', '/api/v1/users/nobody/disable', undefined, 404, 'not_found'],
      ['POST', '/api/v1/users/nobody/enable', undefined, 404, 'not_found'],
      ['POST', '/api/v1/users/nobody/unlock', undefined, 404, 'not_found'],
      ['POST', '/api/v1/users/bad%20name/unlock', undefined, 400, 'invalid_request'],
      ['POST', '/api/v1/users', { username: 'mai', role: 'staff', password: 'a long password' }, 409, 'user_exists'],
    ];
    for (const [method, path, body, status, error] of bad) {
      const r = await t.api(method, path, body, admin);
      expect([r.status, r.body?.error], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, error]);
      expect(typeof r.body.message).toBe('string');
    }
  });

  it('does not let an admin disable their own account (409), and keeps their session when they set their own password', async () => {
    t = await startLocker();
    const admin = await t.login('admin', 'mai');
    const self = await t.api('POST', '/api/v1/users/mai/disable', undefined, admin);
    expect(self.status).toBe(409);
    expect(self.body.error).toBe('cannot_disable_self');
    expect((await t.api('GET', '/api/v1/users', undefined, admin)).body.users[0].state).toBe('active');
    const other = (await login('mai', 'pw-mai-long')).body.token;
    expect((await t.api('POST', '/api/v1/users/mai/password', { password: 'mai has a new password' }, admin)).status).toBe(200);
    expect((await t.api('GET', '/api/v1/users', undefined, admin)).status).toBe(200);
    expect((await t.api('GET', '/api/v1/users', undefined, other)).status).toBe(401);
  });
});
