import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';

let t: TestLocker;
let staff: string;
let auditor: string;

beforeAll(async () => {
  t = await startLocker();
  staff = await t.login('staff');
  auditor = await t.login('auditor');
  await loadDossier(t, staff, 'X-1', '0912345678');
});
afterAll(async () => {
  await t.stop();
});

const bodies: unknown[] = [
  'not json',
  '{"unterminated": ',
  '[]',
  'null',
  '42',
  '{"__proto__": {"admin": true}}',
  '{"constructor": {"prototype": {"x": 1}}}',
  {},
  { code: 12345, phone: 912345678, size: 'S' },
  { code: 'A', phone: '0912345678', size: 'XL' },
  { code: 'A'.repeat(65), phone: '0912345678', size: 'S' },
  { code: 'A B', phone: '0912345678', size: 'S' },
  { code: 'A', phone: '0912345678', size: 'S', extra: true },
  { phone: ['0912345678'], code: { $gt: '' } },
  { username: 1, password: null },
  { open: 'yes' },
  { code: '１２３４５６', phone: '０９１２３４５６７８', size: 'S' },
  { code: 'A', phone: '٠٩١٢٣٤٥٦٧٨', size: 'S' },
];

const endpoints: [string, string, boolean][] = [
  ['POST', '/api/v1/session', false],
  ['POST', '/api/v1/dossiers', true],
  ['POST', '/api/v1/pickups', false],
  ['POST', '/api/v1/pickups/resend', false],
  ['POST', '/api/v1/sim/compartments/1/door', false],
  ['POST', '/api/v1/dossiers/X-1/phone', true],
  ['POST', '/api/v1/dossiers/X-1/extend', true],
  ['POST', '/api/v1/dossiers/X-1/reveal-phone', true],
  ['POST', '/api/v1/dossiers/search', true],
  ['POST', '/api/v1/alarms/1/ack', true],
];

describe('bad input', () => {
  it('is answered with a 4xx error body on every endpoint and changes nothing', async () => {
    const seq = t.locker.ctx.audit.latestSeq();
    const relays = t.sim.relayLog.length;
    const throttle = t.locker.ctx.pickups.throttleState();
    for (const [method, path, auth] of endpoints) {
      for (const body of bodies) {
        const res = await t.api(method, path, body, auth ? staff : undefined);
        const label = `${method} ${path} ${JSON.stringify(body)}`;
        expect(res.status, label).toBeGreaterThanOrEqual(400);
        expect(res.status, label).toBeLessThan(500);
        expect(typeof res.body.error, label).toBe('string');
        expect(typeof res.body.message, label).toBe('string');
      }
    }
    // Some bodies are well-formed pickups with a wrong code: those count as failed pickups (audited),
    // so only compare what must never change.
    expect(t.sim.relayLog.length).toBe(relays);
    const events = t.locker.ctx.audit.list(seq, 1000).events.map((e) => e.type);
    expect(events.every((type) => type === 'pickup.failed' || type === 'pickup.throttled' || type === 'login.failed')).toBe(true);
    expect(throttle.consecutiveFailures).toBeLessThanOrEqual(t.locker.ctx.pickups.throttleState().consecutiveFailures);
  });

  it('rejects malformed path parameters and query strings with 4xx', async () => {
    const cases: [string, string, string | undefined][] = [
      ['GET', '/api/v1/dossiers/%00bad', staff],
      ['GET', `/api/v1/dossiers/${'x'.repeat(65)}`, staff],
      ['POST', '/api/v1/dossiers/no such/loaded', staff],
      ['GET', '/api/v1/dossiers/UNKNOWN', staff],
      ['POST', '/api/v1/dossiers/UNKNOWN/loaded', staff],
      ['POST', '/api/v1/dossiers/UNKNOWN/withdraw', staff],
      ['GET', '/api/v1/audit?limit=0', auditor],
      ['GET', '/api/v1/audit?limit=1001', auditor],
      ['GET', '/api/v1/audit?after=-1', auditor],
      ['GET', '/api/v1/audit?after=abc', auditor],
      ['GET', '/api/v1/audit?surprise=1', auditor],
      ['POST', '/api/v1/sim/compartments/999/door', undefined],
      ['POST', '/api/v1/sim/compartments/abc/door', undefined],
      ['POST', '/api/v1/compartments/999/disable', staff],
      ['POST', '/api/v1/alarms/abc/ack', staff],
      ['POST', '/api/v1/alarms/99999/ack', staff],
      ['GET', '/api/v1/alarms?open=maybe', staff],
      ['POST', '/api/v1/dossiers/UNKNOWN/extend', staff],
      ['GET', '/api/v1/nothing-here', undefined],
    ];
    for (const [method, path, token] of cases) {
      const body = path.includes('/sim/') ? { open: true } : undefined;
      const res = await t.api(method, path, body, token);
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
      expect(res.body.error, `${method} ${path}`).toBeTypeOf('string');
    }
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: '1'.repeat(100_000) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('body_too_large');
  });

  it('refuses a form-encoded body with 415', async () => {
    const res = await fetch(`${t.url}/api/v1/pickups`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'phone=0912345678' });
    expect(res.status).toBe(415);
  });
});
