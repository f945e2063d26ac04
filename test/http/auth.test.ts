import { afterEach, describe, expect, it } from 'vitest';
import { startLocker, type TestLocker } from '../helpers/locker.ts';
import { loginStorm } from '../helpers/login-storm.ts';

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

describe('staff sessions', () => {
  it('gives a token, the role and when it expires, and the token stops working after that', async () => {
    t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: '60' } });
    await t.locker.ctx.auth.addUser('lan', 'staff', 'correct horse');
    const res = await t.api('POST', '/api/v1/session', { username: 'lan', password: 'correct horse' });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('staff');
    expect(Date.parse(res.body.expiresAt)).toBe(t.clock.now() + 3600_000);
    expect(res.body.expiresIn).toBe(3600);
    expect((await t.api('GET', '/api/v1/compartments', undefined, res.body.token)).status).toBe(200);
    t.clock.advance(3600_000);
    const late = await t.api('GET', '/api/v1/compartments', undefined, res.body.token);
    expect(late.status).toBe(401);
  });

  it('answers 401 for a wrong password or unknown user, and 429 once logins are throttled', async () => {
    t = await startLocker();
    await t.locker.ctx.auth.addUser('lan', 'staff', 'correct horse');
    expect((await t.api('POST', '/api/v1/session', { username: 'nobody', password: 'whatever1' })).status).toBe(401);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await t.api('POST', '/api/v1/session', { username: 'lan', password: `wrong-${i}` })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);
    const right = await t.api('POST', '/api/v1/session', { username: 'lan', password: 'correct horse' });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    t.clock.advance(16 * 60_000);
    expect((await t.api('POST', '/api/v1/session', { username: 'lan', password: 'correct horse' })).status).toBe(200);
  });
});

describe('parallel password guessing', () => {
  it('checks at most 5 wrong passwords per account whatever the concurrency, and the right one is refused once blocked', async () => {
    t = await startLocker();
    await t.locker.ctx.auth.addUser('admin1', 'admin', 'the right password');
    const storm = await loginStorm((m, p, b) => t.api(m, p, b), (i) => ({ username: 'admin1', password: `guess-${i}` }), { rounds: 10, perRound: 50 });
    // Ten rounds are enough to reach the limit, never to pass it.
    expect(storm.checked).toBe(5);
    expect(storm.admitted + storm.other).toBe(0);
    expect(storm.throttled + storm.busy + storm.checked).toBe(500);
    const right = await t.api('POST', '/api/v1/session', { username: 'admin1', password: 'the right password' });
    expect(right.status).toBe(429);
    // Every check the storm got is in the trail; nothing else was hashed.
    const failed = t.locker.ctx.audit.list(0, 10_000).events.filter((e) => e.type === 'login.failed');
    expect(failed).toHaveLength(storm.checked);
  });

  it('checks at most 20 wrong passwords per address across any names', async () => {
    t = await startLocker();
    await t.locker.ctx.auth.addUser('lan', 'staff', 'correct horse');
    const storm = await loginStorm((m, p, b) => t.api(m, p, b), (i) => ({ username: `name${i}`, password: `guess-${i}` }), { rounds: 20, perRound: 25 });
    expect(storm.checked).toBe(20);
    expect(storm.admitted + storm.other).toBe(0);
    expect((await t.api('POST', '/api/v1/session', { username: 'lan', password: 'correct horse' })).status).toBe(429);
  });

  it('runs at most 4 password hashes at once and answers the rest 429 busy, counting nothing for them', async () => {
    t = await startLocker();
    await t.locker.ctx.auth.addUser('lan', 'staff', 'correct horse');
    const answers = await Promise.all(Array.from({ length: 12 }, (_v, i) => t.api('POST', '/api/v1/session', { username: `u${i}`, password: 'whatever-1' })));
    const busy = answers.filter((a) => a.status === 429 && a.body.error === 'busy');
    expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(4);
    expect(busy.length).toBeGreaterThanOrEqual(8);
    expect(busy[0].headers.get('retry-after')).toBe('1');
    // The address was charged only for what was checked: the right password still gets in.
    expect((await t.api('POST', '/api/v1/session', { username: 'lan', password: 'correct horse' })).status).toBe(200);
  });

  it('keeps no name typed for an unknown account in login.failed, and the name of a known one', async () => {
    t = await startLocker();
    await t.locker.ctx.auth.addUser('lan', 'staff', 'correct horse');
    await t.api('POST', '/api/v1/session', { username: 'correcthorse99', password: 'whatever-1' });
    await t.api('POST', '/api/v1/session', { username: 'lan', password: 'wrong password' });
    const failed = t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'login.failed');
    expect(failed.map((e) => e.data)).toEqual([{ unknownUser: true }, { username: 'lan' }]);
    // Nowhere in the stored trail, which is what goes to the central office.
    const rows = t.locker.ctx.store.db.prepare('SELECT * FROM audit_events').all();
    expect(JSON.stringify(rows)).not.toContain('correcthorse99');
  });
});

describe('roles', () => {
  it('lets each role reach only its routes', async () => {
    t = await startLocker();
    const tokens = { staff: await t.login('staff'), auditor: await t.login('auditor'), admin: await t.login('admin') };
    const routes: [string, string, unknown, string[]][] = [
      ['POST', '/api/v1/dossiers', { code: 'ROLE-1', phone: '0912345678', size: 'S' }, ['staff', 'admin']],
      ['GET', '/api/v1/dossiers/ROLE-staff', undefined, ['staff', 'admin']],
      ['GET', '/api/v1/compartments', undefined, ['staff', 'admin', 'auditor']],
      ['GET', '/api/v1/audit', undefined, ['auditor', 'admin']],
      ['GET', '/api/v1/audit/verify', undefined, ['auditor', 'admin']],
    ];
    for (const [method, path, body, allowed] of routes) {
      expect((await t.api(method, path, body)).status, `${path} without a token`).toBe(401);
      expect((await t.api(method, path, body, 'x'.repeat(43))).status, `${path} with a made-up token`).toBe(401);
      for (const [role, token] of Object.entries(tokens)) {
        const res = await t.api(method, path, body === undefined ? undefined : { ...(body as object), code: `ROLE-${role}` }, token);
        if (allowed.includes(role)) expect(res.status, `${role} ${path}`).toBeLessThan(300);
        else expect(res.status, `${role} ${path}`).toBe(403);
      }
    }
  });

  it('never lets an auditor unlock a door', async () => {
    t = await startLocker();
    const auditor = await t.login('auditor');
    const before = t.sim.relayLog.filter((r) => r.energised).length;
    for (const [method, path] of [
      ['POST', '/api/v1/dossiers'],
      ['POST', '/api/v1/dossiers/ANY/withdraw'],
      ['POST', '/api/v1/dossiers/ANY/loaded'],
      ['POST', '/api/v1/compartments/1/enable'],
    ]) {
      const res = await t.api(method, path, method === 'POST' && path === '/api/v1/dossiers' ? { code: 'A', phone: '0912345678', size: 'S' } : undefined, auditor);
      expect(res.status).toBe(403);
    }
    expect(t.sim.relayLog.filter((r) => r.energised).length).toBe(before);
  });
});

describe('HTTP hygiene', () => {
  it('sends security headers, no CORS headers, and no-store on the API', async () => {
    t = await startLocker();
    const res = await fetch(`${t.url}/api/v1/compartments`, { headers: { origin: 'http://evil.example' } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('reports the state of each part at /healthz and serves the OpenAPI document at /docs', async () => {
    t = await startLocker();
    const h = await t.api('GET', '/healthz');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', database: { state: 'ok' }, doors: { driver: 'sim' }, sms: { channel: 'file' }, mqtt: { state: 'disabled' } });
    const docs = await t.api('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.body.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/api/v1/pickups', '/api/v1/dossiers/{code}/loaded', '/api/v1/audit']));
    const metrics = await fetch(`${t.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('locker_compartments{status="free"} 24');
  });
});

describe('logging out', () => {
  it('makes the token stop working at once', async () => {
    t = await startLocker();
    const token = await t.login('staff');
    expect((await t.api('DELETE', '/api/v1/session', undefined, token)).status).toBe(204);
    expect((await t.api('GET', '/api/v1/compartments', undefined, token)).status).toBe(401);
    expect((await t.api('DELETE', '/api/v1/session', undefined, token)).status).toBe(401);
  });
});
