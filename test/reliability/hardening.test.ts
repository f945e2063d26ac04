// HTTP hardening, beyond test/http/auth.test.ts: CORS preflights on staff routes, headers on error
// answers too, roles against live dossiers (an auditor, a stranger or an expired session unlocks
// nothing), and the per-address login throttle across user names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT } from '../../server/http/app.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { unlockCount } from '../helpers/seed.ts';
import { writeFigures } from './lib/figures.ts';

let t: TestLocker;
let staff: string;
const suiteStart = Date.now();
const checks = { headers: 0, cors: 0, roles: 0, throttle: 0, size: 0 };

beforeAll(async () => {
  t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: '60' } });
  staff = await t.login('staff');
  await loadDossier(t, staff, 'HD-1', '0913000001');
  await loadDossier(t, staff, 'HD-2', '0913000002');
  const reg = await t.api('POST', '/api/v1/dossiers', { code: 'HD-3', phone: '0913000003', size: 'S' }, staff);
  expect(reg.status).toBe(201);
});

afterAll(async () => {
  writeFigures({
    suite: '7-hardening',
    title: 'HTTP hardening',
    summary: 'Security headers on every kind of answer, CORS preflights and cross-origin requests on staff routes, roles and sessions against live dossiers, the per-address login throttle, the body size limit on every route that takes a body (besides test/http/auth.test.ts and bad-input.test.ts).',
    inputsTried: Object.values(checks).reduce((a, b) => a + b, 0),
    faultsInjected: 0,
    doorsWronglyOpened: 0,
    eventsLost: 0,
    details: {
      'answers checked for security headers': checks.headers,
      'cross-origin requests and preflights (no CORS header granted)': checks.cors,
      'forbidden unlock attempts (auditor, no token, made-up token, expired session)': checks.roles,
      'logins until the address is throttled': checks.throttle,
      'routes refusing a body over the limit': checks.size,
    },
    durationMs: Date.now() - suiteStart,
  });
  await t?.stop();
});

const STAFF_ROUTES: [string, string, unknown?][] = [
  ['POST', '/api/v1/dossiers', { code: 'HD-X', phone: '0913000009', size: 'S' }],
  ['POST', '/api/v1/dossiers/HD-1/withdraw'],
  ['POST', '/api/v1/dossiers/HD-3/loaded'],
  ['POST', '/api/v1/dossiers/HD-2/resend'],
  ['GET', '/api/v1/dossiers/HD-1'],
  ['GET', '/api/v1/compartments'],
  ['POST', '/api/v1/compartments/1/disable'],
  ['GET', '/api/v1/audit'],
];

describe('HTTP hardening', () => {
  it('sends the security headers on pages, API answers and errors alike', async () => {
    for (const [path, init] of [
      ['/', {}],
      ['/staff', {}],
      ['/api/v1/compartments', { headers: { authorization: `Bearer ${staff}` } }],
      ['/api/v1/compartments', {}],
      ['/api/v1/nothing', {}],
      ['/api/v1/pickups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(BODY_LIMIT + 1) }],
      ['/api/v1/pickups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' }],
    ] as [string, RequestInit][]) {
      const res = await fetch(`${t.url}${path}`, init);
      checks.headers++;
      const label = `${init.method ?? 'GET'} ${path} (${res.status})`;
      expect(res.headers.get('x-content-type-options'), label).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), label).toBe('DENY');
      expect(res.headers.get('referrer-policy'), label).toBe('no-referrer');
      expect(res.headers.get('content-security-policy'), label).toContain("frame-ancestors 'none'");
      if (path.startsWith('/api/')) expect(res.headers.get('cache-control'), label).toBe('no-store');
      expect(res.headers.get('server'), label).toBeNull();
      expect(res.headers.get('x-powered-by'), label).toBeNull();
    }
  });

  it('grants no cross-origin access to staff routes: no CORS headers on preflights or on the answers', async () => {
    for (const [method, path] of STAFF_ROUTES) {
      const pre = await fetch(`${t.url}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'http://evil.example', 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
      });
      checks.cors++;
      for (const h of ['access-control-allow-origin', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-credentials']) {
        expect(pre.headers.get(h), `OPTIONS ${path}: ${h}`).toBeNull();
      }
      expect(pre.status, `OPTIONS ${path}`).toBeGreaterThanOrEqual(400);
      const res = await fetch(`${t.url}${path}`, { method: 'GET', headers: { origin: 'http://evil.example', authorization: `Bearer ${staff}` } });
      checks.cors++;
      expect(res.headers.get('access-control-allow-origin'), `GET ${path} from another origin`).toBeNull();
    }
  });

  it('lets no auditor, stranger, made-up token or expired session unlock a door or change a dossier', async () => {
    const auditor = await t.login('auditor');
    const before = unlockCount(t);
    const seq = t.locker.ctx.audit.latestSeq();
    const tries: [string, string | undefined, number][] = [
      [auditor, auditor, 403],
      ['none', undefined, 401],
      ['made-up', 'A'.repeat(43), 401],
      ['malformed', 'not a token!', 401],
    ];
    for (const [who, token, status] of tries) {
      for (const [method, path, body] of STAFF_ROUTES.filter(([m, p]) => m === 'POST' && !p.includes('disable'))) {
        const res = await t.api(method, path, body, token);
        checks.roles++;
        expect(res.status, `${who === auditor ? 'auditor' : who}: ${method} ${path}`).toBe(status);
      }
    }
    // A session that expired is a stranger too.
    const old = await t.login('staff', 'staff-expiring');
    t.clock.advance(60 * 60_000);
    for (const [method, path, body] of STAFF_ROUTES.filter(([m]) => m === 'POST')) {
      const res = await t.api(method, path, body, old);
      checks.roles++;
      expect(res.status, `expired session: ${method} ${path}`).toBe(401);
    }
    expect(unlockCount(t)).toBe(before);
    const changed = t.locker.ctx.audit.list(seq, 1000).events.filter((e) => !e.type.startsWith('login.') && e.type !== 'user.created');
    expect(changed.map((e) => e.type)).toEqual([]);
    expect(t.locker.ctx.dossiers.get('HD-1').status).toBe('ready');
    expect(t.locker.ctx.dossiers.get('HD-3').status).toBe('loading');
  });

  it('throttles an address that tries many user names, not only one user', async () => {
    let status = 0;
    let n = 0;
    while (n < 40) {
      const res = await t.api('POST', '/api/v1/session', { username: `guess-${n}`, password: 'wrong-password' });
      n++;
      status = res.status;
      if (status === 429) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        break;
      }
      expect(status).toBe(401);
    }
    checks.throttle = n;
    expect(status).toBe(429);
    expect(n).toBeLessThanOrEqual(21);
    // Even the right password waits.
    expect((await t.api('POST', '/api/v1/session', { username: 'staff1', password: 'pw-staff1-long' })).status).toBe(429);
    t.clock.advance(16 * 60_000);
    expect((await t.api('POST', '/api/v1/session', { username: 'staff1', password: 'pw-staff1-long' })).status).toBe(200);
  });

  it('refuses a body over the limit on every route that takes one, before looking at the token', async () => {
    const docs = await t.api('GET', '/docs/json');
    const withBody = Object.entries<Record<string, any>>(docs.body.paths).flatMap(([path, ops]) =>
      Object.entries<any>(ops).filter(([, op]) => op.requestBody).map(([method]) => [method.toUpperCase(), path.replace(/\{\w+\}/g, '1')] as const),
    );
    expect(withBody.length).toBeGreaterThanOrEqual(5);
    for (const [method, path] of withBody) {
      const res = await fetch(`${t.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT) }) });
      checks.size++;
      expect(res.status, `${method} ${path}`).toBe(413);
    }
  });
});
