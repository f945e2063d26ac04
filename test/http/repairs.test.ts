// Staff repairs on a dossier: a corrected phone number, a new deadline (also for an expired dossier),
// the full number on demand, finding dossiers by phone, and what the view says about locked codes.
// Each is audited with the clerk and the reason; no event carries a full phone number.
import { afterEach, describe, expect, it } from 'vitest';
import { LIFETIME_FAILURES } from '../../server/domain/dossier-rules.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { wrongCode } from '../helpers/seed.ts';

const OLD = '0912345678';
const NEW = '0987654321';
const DAY = 86_400_000;
let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

const pastThrottle = () => t.clock.advance(16 * 60_000);
const events = (type: string) => t.locker.ctx.audit.list(0, 10_000).events.filter((e) => e.type === type);
const trailText = () => JSON.stringify(t.locker.ctx.audit.list(0, 10_000).events);
const pickup = (phone: string, code: string) => t.api('POST', '/api/v1/pickups', { phone, code });

async function setup(env: Record<string, string> = {}) {
  t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: '10080', ...env } });
  return t.login('staff', 'clerk');
}

describe('correcting the phone number', () => {
  it('stops the old code of a ready dossier and sends a new code to the new number; the event holds both numbers masked', async () => {
    const staff = await setup();
    await loadDossier(t, staff, 'P-1', OLD);
    const oldCode = t.codeFor(OLD);
    const r = await t.api('POST', '/api/v1/dossiers/P-1/phone', { phone: '+84987654321', reason: 'typo at the counter' }, staff);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 'P-1', status: 'ready', phone: '09******21', codeLocked: false });
    await t.locker.sms.drain();
    const newCode = t.codeFor(NEW);

    expect((await pickup(OLD, oldCode)).status).toBe(401);
    expect((await pickup(NEW, oldCode === newCode ? wrongCode(newCode) : oldCode)).status).toBe(401);
    pastThrottle();
    expect((await pickup(NEW, newCode)).status).toBe(200);

    const [e] = events('dossier.phone_corrected');
    expect(e).toMatchObject({ actor: 'staff:clerk', dossier: 'P-1', data: { from: '09******78', to: '09******21', newCode: true, reason: 'typo at the counter' } });
    expect(trailText()).not.toContain(OLD);
    expect(trailText()).not.toContain(NEW.slice(1));
  });

  it('gives a loading dossier the new number, where its first code then goes', async () => {
    const staff = await setup();
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'P-2', phone: OLD, size: 'S' }, staff);
    const r = await t.api('POST', '/api/v1/dossiers/P-2/phone', { phone: NEW, reason: 'citizen called' }, staff);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('loading');
    t.sim.setDoor(reg.body.compartment, true);
    t.sim.setDoor(reg.body.compartment, false);
    expect((await t.api('POST', '/api/v1/dossiers/P-2/loaded', undefined, staff)).status).toBe(200);
    await t.locker.sms.drain();
    expect(t.sms().map((m) => m.to)).toEqual([NEW]);
  });

  it('refuses a bad number, the same number, a missing or long reason, an unknown or collected dossier, and changes nothing', async () => {
    const staff = await setup();
    await loadDossier(t, staff, 'P-3', OLD);
    pastThrottle();
    await loadDossier(t, staff, 'P-4', NEW);
    expect((await pickup(NEW, t.codeFor(NEW))).status).toBe(200);
    const auditor = await t.login('auditor');
    const seq = t.locker.ctx.audit.latestSeq();
    const sent = t.sms().length;
    const cases: [string, unknown, number, string][] = [
      ['P-3', { phone: '12345', reason: 'x' }, 400, 'invalid_phone'],
      ['P-3', { phone: OLD, reason: 'x' }, 400, 'same_phone'],
      ['P-3', { phone: NEW }, 400, 'bad_request'],
      ['P-3', { phone: NEW, reason: '' }, 400, 'bad_request'],
      ['P-3', { phone: NEW, reason: '   ' }, 400, 'invalid_reason'],
      ['P-3', { phone: NEW, reason: 'x'.repeat(201) }, 400, 'bad_request'],
      ['P-3', { phone: NEW, reason: 'x', extra: 1 }, 400, 'bad_request'],
      ['NOPE-1', { phone: NEW, reason: 'x' }, 404, 'not_found'],
      ['P-4', { phone: OLD, reason: 'x' }, 409, 'invalid_state'],
    ];
    for (const [code, body, status, error] of cases) {
      const r = await t.api('POST', `/api/v1/dossiers/${code}/phone`, body, staff);
      expect(r.status, JSON.stringify(body)).toBe(status);
      if (error !== 'bad_request') expect(r.body.error, JSON.stringify(body)).toBe(error);
      expect(typeof r.body.message).toBe('string');
    }
    expect((await t.api('POST', '/api/v1/dossiers/P-3/phone', { phone: NEW, reason: 'x' }, auditor)).status).toBe(403);
    expect(t.locker.ctx.audit.latestSeq()).toBe(seq);
    await t.locker.sms.drain();
    expect(t.sms().length).toBe(sent);
    expect((await t.api('GET', '/api/v1/dossiers/P-3', undefined, staff)).body.phone).toBe('09******78');
  });
});

describe('a new deadline', () => {
  it('moves the deadline of a ready dossier; its code still works after the old deadline', async () => {
    const staff = await setup({ LOCKER_PICKUP_DAYS: '1' });
    await loadDossier(t, staff, 'E-1', OLD);
    const code = t.codeFor(OLD);
    const r = await t.api('POST', '/api/v1/dossiers/E-1/extend', { days: 3, reason: 'citizen abroad until Friday' }, staff);
    expect(r.status).toBe(200);
    expect(Date.parse(r.body.expiresAt)).toBe(t.clock.now() + 3 * DAY);
    t.clock.advance(2 * DAY);
    expect(t.locker.runExpiry()).toBe(0);
    expect((await pickup(OLD, code)).status).toBe(200);
    const [e] = events('dossier.extended');
    expect(e).toMatchObject({ actor: 'staff:clerk', dossier: 'E-1', data: { from: 'ready', newCode: false, reason: 'citizen abroad until Friday' } });
  });

  it('brings an expired dossier back as ready with a new deadline and a new code by SMS, where a resend answers 409', async () => {
    const staff = await setup({ LOCKER_PICKUP_DAYS: '1' });
    await loadDossier(t, staff, 'E-2', OLD);
    const oldCode = t.codeFor(OLD);
    t.clock.advance(DAY + 1);
    expect(t.locker.runExpiry()).toBe(1);
    expect((await t.api('POST', '/api/v1/dossiers/E-2/resend', undefined, staff)).status).toBe(409);

    const until = new Date(t.clock.now() + 2 * DAY).toISOString();
    const r = await t.api('POST', '/api/v1/dossiers/E-2/extend', { until, reason: 'citizen came to the office' }, staff);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ready', expiresAt: until, codeLocked: false });
    await t.locker.sms.drain();
    const newCode = t.codeFor(OLD);
    expect(newCode).not.toBe(oldCode);
    expect((await pickup(OLD, oldCode)).status).toBe(401);
    pastThrottle();
    expect((await pickup(OLD, newCode)).status).toBe(200);
    expect(events('dossier.revived')[0]).toMatchObject({ actor: 'staff:clerk', data: { from: 'expired', newCode: true, expiresAt: until } });
  });

  it('refuses days outside 0.01-60, both days and until, a past or unreadable until, and a collected dossier', async () => {
    const staff = await setup();
    await loadDossier(t, staff, 'E-3', OLD);
    const seq = t.locker.ctx.audit.latestSeq();
    const bodies = [
      { days: 0, reason: 'x' },
      { days: 61, reason: 'x' },
      { days: '3', reason: 'x' },
      { days: 1, until: new Date(t.clock.now() + DAY).toISOString(), reason: 'x' },
      { reason: 'x' },
      { until: new Date(t.clock.now() - DAY).toISOString(), reason: 'x' },
      { until: new Date(t.clock.now() + 61 * DAY).toISOString(), reason: 'x' },
      { until: 'next friday please', reason: 'x' },
      { days: 2 },
    ];
    for (const body of bodies) {
      const r = await t.api('POST', '/api/v1/dossiers/E-3/extend', body, staff);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect(t.locker.ctx.audit.latestSeq()).toBe(seq);
    expect((await pickup(OLD, t.codeFor(OLD))).status).toBe(200);
    expect((await t.api('POST', '/api/v1/dossiers/E-3/extend', { days: 2, reason: 'x' }, staff)).status).toBe(409);
  });
});

describe('the full phone number on demand', () => {
  it('reveals the number to staff, audits each reveal with the reason and without the number', async () => {
    const staff = await setup();
    await loadDossier(t, staff, 'V-1', OLD);
    expect((await t.api('GET', '/api/v1/dossiers/V-1', undefined, staff)).body.phone).toBe('09******78');
    const admin = await t.login('admin', 'boss');
    for (const token of [staff, admin]) {
      const r = await t.api('POST', '/api/v1/dossiers/V-1/reveal-phone', { reason: 'call the citizen about the deadline' }, token);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ code: 'V-1', phone: OLD });
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    expect(events('dossier.phone_revealed').map((e) => [e.actor, e.dossier, e.data])).toEqual([
      ['staff:clerk', 'V-1', { reason: 'call the citizen about the deadline' }],
      ['staff:boss', 'V-1', { reason: 'call the citizen about the deadline' }],
    ]);
    expect((await t.api('POST', '/api/v1/dossiers/V-1/reveal-phone', {}, staff)).status).toBe(400);
    expect((await t.api('POST', '/api/v1/dossiers/V-1/reveal-phone', { reason: 'x' }, await t.login('auditor'))).status).toBe(403);
    expect((await t.api('POST', '/api/v1/dossiers/NOPE/reveal-phone', { reason: 'x' })).status).toBe(401);
    expect(events('dossier.phone_revealed')).toHaveLength(2);
    expect(trailText()).not.toContain(OLD);
  });
});

describe('finding dossiers by phone', () => {
  it('finds every dossier of a number, in either form, from a POST body, audited as a lookup with the number masked', async () => {
    const staff = await setup();
    await loadDossier(t, staff, 'S-1', OLD);
    await loadDossier(t, staff, 'S-2', NEW);
    await loadDossier(t, staff, 'S-3', OLD);
    const r = await t.api('POST', '/api/v1/dossiers/search', { phone: '+84 912 345 678' }, staff);
    expect(r.status).toBe(200);
    expect(r.body.dossiers.map((d: { code: string }) => d.code)).toEqual(['S-3', 'S-1']);
    expect(r.body.dossiers[0].phone).toBe('09******78');
    const none = await t.api('POST', '/api/v1/dossiers/search', { phone: '0900000000' }, staff);
    expect(none.body.dossiers).toEqual([]);
    expect((await t.api('POST', '/api/v1/dossiers/search', { phone: 'abc' }, staff)).status).toBe(400);
    expect(events('dossier.lookup').map((e) => [e.actor, e.data])).toEqual([
      ['staff:clerk', { by: 'phone', phone: '09******78', found: 2 }],
      ['staff:clerk', { by: 'phone', phone: '09******00', found: 0 }],
    ]);
    expect(trailText()).not.toContain(OLD);
  });
});

describe('locked codes in the view', () => {
  it('says when the lifetime cap is reached; a staff resend gives a fresh budget that works', async () => {
    const staff = await setup();
    await loadDossier(t, staff, 'L-1', OLD);
    t.locker.ctx.store.db.prepare(`UPDATE dossiers SET failures = ?, code_fail_limit = ? WHERE code = 'L-1'`).run(LIFETIME_FAILURES, LIFETIME_FAILURES);
    const d = await t.api('GET', '/api/v1/dossiers/L-1', undefined, staff);
    expect(d.body).toMatchObject({ codeLocked: true, lifetimeCapReached: true, failedAttempts: LIFETIME_FAILURES });
    const list = await t.api('GET', '/api/v1/dossiers?status=ready', undefined, staff);
    expect(list.body.dossiers[0]).toMatchObject({ code: 'L-1', lifetimeCapReached: true });
    const r = await t.api('POST', '/api/v1/dossiers/L-1/resend', undefined, staff);
    expect(r.body).toMatchObject({ codeLocked: false, lifetimeCapReached: true });
    await t.locker.sms.drain();
    expect((await pickup(OLD, t.codeFor(OLD))).status).toBe(200);
  });
});
