import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';

const PHONE = '0912345678';
let t: TestLocker;
let staff: string;

beforeEach(async () => {
  t = await startLocker();
  staff = await t.login('staff');
});
afterEach(async () => {
  await t.stop();
});

const unlocks = () => t.sim.relayLog.filter((r) => r.energised).map((r) => r.compartment);
const compartment = async (n: number) => {
  const auditor = await t.login('auditor');
  const res = await t.api('GET', '/api/v1/compartments', undefined, auditor);
  return res.body.compartments.find((c: { number: number }) => c.number === n);
};

describe('a dossier from loading to pickup', () => {
  it('books the smallest free compartment that fits and unlocks it for the clerk', async () => {
    const res = await t.api('POST', '/api/v1/dossiers', { code: 'H29.12-251123-0001', phone: PHONE, size: 'M' }, staff);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ code: 'H29.12-251123-0001', compartment: 4, status: 'loading', size: 'M', compartmentSize: 'M', autoConfirm: true });
    expect(unlocks()).toEqual([4]);
    expect(await compartment(4)).toEqual({ number: 4, size: 'M', status: 'loading', door: 'closed' });
  });

  it('refuses to confirm while the door is open, then sends the code by SMS once it is shut', async () => {
    const { body } = await t.api('POST', '/api/v1/dossiers', { code: 'D-1', phone: '+84912345678', size: 'S' }, staff);
    t.sim.setDoor(body.compartment, true);
    const early = await t.api('POST', '/api/v1/dossiers/D-1/loaded', undefined, staff);
    expect(early.status).toBe(409);
    expect(early.body.error).toBe('door_open');
    t.sim.setDoor(body.compartment, false);
    const ok = await t.api('POST', '/api/v1/dossiers/D-1/loaded', undefined, staff);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ code: 'D-1', compartment: body.compartment, status: 'ready' });
    await t.locker.sms.drain();
    const sms = t.sms();
    expect(sms).toHaveLength(1);
    expect(sms[0].to).toBe(PHONE);
    expect(sms[0].text).toMatch(/Ma nhan: \d{6}/); // GSM-7 without diacritics, the default
    expect(Object.keys(sms[0]).sort()).toEqual(['at', 'text', 'to']);
    const dossier = await t.api('GET', '/api/v1/dossiers/D-1', undefined, staff);
    expect(dossier.body).toMatchObject({ code: 'D-1', status: 'ready', sms: 'sent', phone: '09******78' });
  });

  it('opens the right door for the citizen and frees the compartment once it shuts again', async () => {
    const n = await loadDossier(t, staff, 'D-2', PHONE, 'L');
    const before = unlocks().length;
    const res = await t.api('POST', '/api/v1/pickups', { phone: PHONE, code: t.codeFor(PHONE) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ compartment: n, doorToken: expect.any(String) });
    expect(unlocks().slice(before)).toEqual([n]);
    expect((await compartment(n)).status).toBe('occupied');
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    expect(await compartment(n)).toMatchObject({ status: 'free', door: 'closed' });
    const dossier = await t.api('GET', '/api/v1/dossiers/D-2', undefined, staff);
    expect(dossier.body.status).toBe('picked_up');

    const auditor = await t.login('auditor');
    const trail = await t.api('GET', '/api/v1/audit?limit=1000', undefined, auditor);
    const types = trail.body.events.filter((e: { dossier?: string }) => e.dossier === 'D-2').map((e: { type: string }) => e.type);
    expect(types).toEqual([
      'dossier.loading',
      'door.unlocked',
      'door.opened',
      'door.closed',
      'dossier.ready',
      'sms.sent',
      'pickup.succeeded',
      'door.unlocked',
      'door.opened',
      'door.closed',
    ]);
    const verify = await t.api('GET', '/api/v1/audit/verify', undefined, auditor);
    expect(verify.body.ok).toBe(true);
  });

  it('answers locker_full and changes nothing when no compartment of that size or larger is free', async () => {
    for (let i = 0; i < 4; i++) await loadDossier(t, staff, `L-${i}`, PHONE, 'L');
    const before = t.locker.ctx.audit.latestSeq();
    const relays = unlocks().length;
    const res = await t.api('POST', '/api/v1/dossiers', { code: 'L-5', phone: PHONE, size: 'L' }, staff);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('locker_full');
    expect(t.locker.ctx.audit.latestSeq()).toBe(before);
    expect(unlocks().length).toBe(relays);
    const small = await t.api('POST', '/api/v1/dossiers', { code: 'S-1', phone: PHONE, size: 'S' }, staff);
    expect(small.status).toBe(201);
  });

  it('answers dossier_exists for a code already in the locker', async () => {
    await loadDossier(t, staff, 'DUP', PHONE);
    const res = await t.api('POST', '/api/v1/dossiers', { code: 'DUP', phone: PHONE, size: 'S' }, staff);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('dossier_exists');
  });
});

describe('withdraw and expiry', () => {
  it('lets staff take a dossier back: the code stops working and the door unlocks', async () => {
    const n = await loadDossier(t, staff, 'W-1', PHONE);
    const code = t.codeFor(PHONE);
    const res = await t.api('POST', '/api/v1/dossiers/W-1/withdraw', undefined, staff);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'withdrawn', compartment: n });
    expect(unlocks().at(-1)).toBe(n);
    const pickup = await t.api('POST', '/api/v1/pickups', { phone: PHONE, code });
    expect(pickup.status).toBe(401);
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    expect((await compartment(n)).status).toBe('free');
    const again = await t.api('POST', '/api/v1/dossiers/W-1/withdraw', undefined, staff);
    expect(again.status).toBe(409);
  });

  it('expires a dossier after the pickup window, lists it for staff, and its code no longer opens anything', async () => {
    const n = await loadDossier(t, staff, 'E-1', PHONE);
    const code = t.codeFor(PHONE);
    t.clock.advance(7 * 24 * 3600 * 1000 + 1000);
    expect(t.locker.runExpiry()).toBe(1);
    staff = await t.login('staff'); // a week later the clerk's session has long expired
    const listed = await t.api('GET', '/api/v1/dossiers?status=expired', undefined, staff);
    expect(listed.body.dossiers.map((d: { code: string }) => d.code)).toEqual(['E-1']);
    const relays = unlocks().length;
    const pickup = await t.api('POST', '/api/v1/pickups', { phone: PHONE, code });
    expect(pickup.status).toBe(401);
    expect(unlocks().length).toBe(relays);
    expect((await compartment(n)).status).toBe('occupied');
    const w = await t.api('POST', '/api/v1/dossiers/E-1/withdraw', undefined, staff);
    expect(w.status).toBe(200);
  });

  it('honours a configured pickup window', async () => {
    await t.stop();
    t = await startLocker({ env: { LOCKER_PICKUP_DAYS: '1' } });
    staff = await t.login('staff');
    await loadDossier(t, staff, 'E-2', PHONE);
    t.clock.advance(23 * 3600 * 1000);
    expect(t.locker.runExpiry()).toBe(0);
    t.clock.advance(3600 * 1000 + 1);
    expect(t.locker.runExpiry()).toBe(1);
  });
});

describe('a forced door', () => {
  it('records a door opened without an unlock as forced', async () => {
    t.sim.setDoor(7, true);
    const auditor = await t.login('auditor');
    const trail = await t.api('GET', '/api/v1/audit?limit=1000', undefined, auditor);
    const doorEvents = trail.body.events.filter((e: { compartment?: number; data?: { atStartup?: boolean } }) => e.compartment === 7 && !e.data?.atStartup);
    expect(doorEvents).toEqual([expect.objectContaining({ type: 'door.forced_open', compartment: 7, actor: 'system' })]);
  });
});
