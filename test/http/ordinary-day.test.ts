// An ordinary day at the locker, through the whole service (real SQLite, real HTTP, simulated
// doors, hand-driven time): a wrong entry taken back, a door nobody opened, a pulse that failed,
// a restart between a commit and its pulse, a clerk who forgot to confirm. None may strand a
// compartment or tell a citizen something that did not happen.
import { afterEach, describe, expect, it } from 'vitest';
import { SimDoorBus } from '../../firmware-bridge/sim-driver.ts';
import type { UnlockResult } from '../../firmware-bridge/door-bus.ts';
import { ManualClock } from '../helpers/clock.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { ManualScheduler } from '../domain/door-fixtures.ts';

const PHONE = '0912345678';
const WINDOW_S = 30;

/** Simulated doors whose next pulses can be made to fail, as a relay board that stopped answering. */
class FailingBus extends SimDoorBus {
  failing = false;
  override async unlock(compartment: number): Promise<UnlockResult> {
    if (this.failing) throw new Error('relay board not answering');
    return super.unlock(compartment);
  }
}

let t: TestLocker;
let scheduler: ManualScheduler;
let clock: ManualClock;
let staff: string;

async function start(opts: { bus?: SimDoorBus; env?: Record<string, string> } = {}) {
  scheduler = new ManualScheduler();
  clock = new ManualClock();
  t = await startLocker({ clock, overrides: { scheduler, ...(opts.bus ? { doorBus: opts.bus } : {}) }, env: opts.env });
  staff = await t.login('staff');
  return t;
}

afterEach(async () => {
  await t?.stop();
});

const later = (sec: number) => scheduler.advance(sec * 1000, clock);

function events(type?: string) {
  const rows = t.locker.ctx.store.db.prepare('SELECT type, actor, compartment, dossier, data FROM audit_events ORDER BY seq').all() as {
    type: string;
    actor: string;
    compartment: number | null;
    dossier: string | null;
    data: string | null;
  }[];
  return rows.map((r) => ({ ...r, data: r.data ? JSON.parse(r.data) : null })).filter((r) => !type || r.type === type);
}

async function status(n: number) {
  const res = await t.api('GET', '/api/v1/compartments', undefined, staff);
  return res.body.compartments.find((c: { number: number }) => c.number === n).status as string;
}

const dossier = async (code: string) => (await t.api('GET', `/api/v1/dossiers/${code}`, undefined, staff)).body;

describe('a wrong entry taken back', () => {
  it('frees the compartment once the door is shut when a dossier is withdrawn with its loading door open', async () => {
    await start();
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'W-1', phone: PHONE, size: 'S' }, staff);
    const n = reg.body.compartment;
    t.sim.setDoor(n, true); // the clerk opened it, then noticed the wrong phone
    expect((await t.api('POST', '/api/v1/dossiers/W-1/withdraw', undefined, staff)).status).toBe(200);
    t.sim.setDoor(n, false);
    expect(await status(n)).toBe('free');
  });

  it('frees the compartment at once when a dossier is withdrawn before its loading door ever opened', async () => {
    await start();
    const n = (await t.api('POST', '/api/v1/dossiers', { code: 'W-2', phone: PHONE, size: 'S' }, staff)).body.compartment;
    expect((await t.api('POST', '/api/v1/dossiers/W-2/withdraw', undefined, staff)).status).toBe(200);
    expect(await status(n)).toBe('free');
    expect(events('compartment.released')).toEqual([expect.objectContaining({ compartment: n, dossier: 'W-2', data: { reason: 'never_loaded' } })]);
  });

  it('lets staff finish a withdraw whose door nobody opened in time with a repair unlock', async () => {
    await start();
    const n = await loadDossier(t, staff, 'W-3', PHONE);
    await t.api('POST', '/api/v1/dossiers/W-3/withdraw', undefined, staff);
    await later(WINDOW_S + 5); // nobody opened it
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    expect(events('door.forced_open')).toHaveLength(1);
    expect(await status(n)).toBe('occupied');
    expect((await t.api('POST', '/api/v1/dossiers/W-3/withdraw', undefined, staff)).status).toBe(409);

    const res = await t.api('POST', `/api/v1/compartments/${n}/unlock`, { reason: 'withdraw not collected in time' }, staff);
    expect(res.status).toBe(200);
    expect(events('door.unlocked').at(-1)).toMatchObject({ actor: 'staff:staff1', compartment: n, dossier: 'W-3', data: { reason: 'withdraw not collected in time' } });
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    expect(await status(n)).toBe('free');
  });

  it('lets staff release a compartment whose withdraw door jammed, once they checked it is empty', async () => {
    await start({ env: { LOCKER_JAM_TIMEOUT_S: '5' } });
    const n = await loadDossier(t, staff, 'W-4', PHONE);
    await t.api('POST', '/api/v1/dossiers/W-4/withdraw', undefined, staff);
    await later(10);
    expect(events('door.jammed')).toHaveLength(1);
    expect(await status(n)).toBe('fault');
    const res = await t.api('POST', `/api/v1/compartments/${n}/release`, { reason: 'opened with the key, empty' }, staff);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ number: n, status: 'free' });
    expect(events('compartment.released').at(-1)).toMatchObject({ actor: 'staff:staff1', data: { reason: 'opened with the key, empty', from: 'withdrawn', clearedFault: 'jammed' } });
  });

  it('refuses a release while the door is open, and a repair unlock of a disabled compartment', async () => {
    await start();
    const n = await loadDossier(t, staff, 'W-5', PHONE);
    t.sim.setDoor(n, true);
    const open = await t.api('POST', `/api/v1/compartments/${n}/release`, { reason: 'check' }, staff);
    expect(open.status).toBe(409);
    expect(open.body.error).toBe('door_open');
    t.sim.setDoor(n, false);
    await t.api('POST', `/api/v1/compartments/${n}/disable`, {}, staff);
    const shut = await t.api('POST', `/api/v1/compartments/${n}/unlock`, { reason: 'look' }, staff);
    expect(shut.status).toBe(409);
    expect(shut.body.error).toBe('invalid_state');
    expect((await t.api('POST', `/api/v1/compartments/${n}/unlock`, { reason: '' }, staff)).status).toBe(400);
    // A blank reason says nothing to the auditor: refused like an empty one, with the same code as the dossier repairs.
    for (const action of ['unlock', 'release']) {
      const blank = await t.api('POST', `/api/v1/compartments/${n}/${action}`, { reason: '   ' }, staff);
      expect(blank.status, action).toBe(400);
      expect(blank.body.error, action).toBe('invalid_reason');
    }
    expect((await dossier('W-5')).status).toBe('ready');
  });

  it('withdraws a ready dossier on release: its code stops working', async () => {
    await start();
    const n = await loadDossier(t, staff, 'W-6', PHONE);
    const code = t.codeFor(PHONE);
    expect((await t.api('POST', `/api/v1/compartments/${n}/release`, { reason: 'paper was never put in' }, staff)).status).toBe(200);
    expect((await dossier('W-6')).status).toBe('withdrawn');
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).status).toBe(401);
    expect(await status(n)).toBe('free');
  });
});

describe('a pickup whose door never opened', () => {
  it('is undone when the pulse fails: the same code works again and pickup.reverted is written', async () => {
    const bus = new FailingBus(Array.from({ length: 24 }, (_, i) => i + 1), { pulseMs: 10, gapMs: 0 });
    await start({ bus });
    const n = await loadDossier(t, staff, 'P-1', PHONE);
    const code = t.codeFor(PHONE);
    bus.failing = true;
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).status).toBe(503);
    expect((await dossier('P-1')).status).toBe('ready');
    expect(events('pickup.reverted')).toEqual([expect.objectContaining({ compartment: n, dossier: 'P-1', data: { reason: 'pulse_failed' } })]);
    bus.failing = false;
    await t.api('POST', `/api/v1/compartments/${n}/enable`, undefined, staff);
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).status).toBe(200);
  });

  it('is undone when its unlock window lapses with the door shut, and sends no receipt', async () => {
    await start({ env: { LOCKER_SMS_RECEIPT_DELAY_S: '60' } });
    const n = await loadDossier(t, staff, 'P-2', PHONE);
    const code = t.codeFor(PHONE);
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).status).toBe(200);
    await later(WINDOW_S + 2);
    expect((await dossier('P-2')).status).toBe('ready');
    expect(events('pickup.reverted')).toEqual([expect.objectContaining({ compartment: n, data: { reason: 'not_opened' } })]);
    await later(120);
    await t.locker.sms.drain();
    expect(t.sms().filter((m) => m.to === PHONE)).toHaveLength(1); // the code only, no receipt
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).status).toBe(200);
  });

  it('is undone at start-up when the service stopped between the commit and the door opening', async () => {
    await start();
    const n = await loadDossier(t, staff, 'P-3', PHONE);
    const code = t.codeFor(PHONE);
    // The commit is made, then the power goes before anyone opens the door.
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).status).toBe(200);
    t = await t.restart();
    staff = await t.login('staff');
    expect((await dossier('P-3')).status).toBe('ready');
    expect(events('pickup.reverted')).toEqual([expect.objectContaining({ compartment: n, dossier: 'P-3', data: { reason: 'restart' } })]);
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).status).toBe(200);
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    expect(await status(n)).toBe('free');
  });

  it('sends the receipt once the door has really opened', async () => {
    await start({ env: { LOCKER_SMS_RECEIPT_DELAY_S: '60' } });
    const n = await loadDossier(t, staff, 'P-4', PHONE);
    await t.api('POST', '/api/v1/pickups', { phone: PHONE, code: t.codeFor(PHONE) });
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    await later(120);
    await t.locker.sms.drain();
    expect(t.sms().filter((m) => m.to === PHONE)).toHaveLength(2);
    expect(events('pickup.reverted')).toEqual([]);
  });
});

describe('confirming a load', () => {
  it('refuses to confirm a dossier whose door was never opened, and sends no SMS', async () => {
    await start();
    const n = (await t.api('POST', '/api/v1/dossiers', { code: 'L-1', phone: PHONE, size: 'S' }, staff)).body.compartment;
    const res = await t.api('POST', '/api/v1/dossiers/L-1/loaded', undefined, staff);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('door_not_opened');
    await t.locker.sms.drain();
    expect(t.sms()).toEqual([]);
    expect((await dossier('L-1')).status).toBe('loading');
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    expect((await t.api('POST', '/api/v1/dossiers/L-1/loaded', undefined, staff)).status).toBe(200);
  });

  it('raises dossier.loading_stale once for a dossier left in loading past the alarm time', async () => {
    await start({ env: { LOCKER_LOADING_ALARM_MIN: '15' } });
    await t.api('POST', '/api/v1/dossiers', { code: 'L-2', phone: PHONE, size: 'S' }, staff);
    clock.advance(14 * 60_000);
    t.locker.runExpiry();
    expect(events('dossier.loading_stale')).toEqual([]);
    clock.advance(2 * 60_000);
    t.locker.runExpiry();
    t.locker.runExpiry();
    expect(events('dossier.loading_stale')).toEqual([expect.objectContaining({ actor: 'system', dossier: 'L-2', data: expect.objectContaining({ minutes: 16 }) })]);
  });
});

describe('the unlock window and a restart', () => {
  it('records a door opened by hand after a restart, within the old window, as forced open', async () => {
    await start();
    const n = await loadDossier(t, staff, 'R-1', PHONE);
    await t.api('POST', '/api/v1/dossiers/R-1/withdraw', undefined, staff); // unlocked, window open
    t = await t.restart();
    clock.advance(5_000);
    t.sim.setDoor(n, true);
    expect(events('door.forced_open')).toEqual([expect.objectContaining({ compartment: n })]);
    expect(events('door.opened').filter((e) => e.compartment === n && e.data?.atStartup === undefined)).toHaveLength(1); // the loading one only
  });
});

describe('dossier codes', () => {
  it('treats codes that differ only in case as one dossier', async () => {
    await start();
    expect((await t.api('POST', '/api/v1/dossiers', { code: 'H29.12-251203-0042', phone: PHONE, size: 'S' }, staff)).status).toBe(201);
    const again = await t.api('POST', '/api/v1/dossiers', { code: 'h29.12-251203-0042', phone: PHONE, size: 'S' }, staff);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('dossier_exists');
    const got = await t.api('GET', '/api/v1/dossiers/h29.12-251203-0042', undefined, staff);
    expect(got.status).toBe(200);
    expect(got.body.code).toBe('H29.12-251203-0042');
    expect((await t.api('POST', '/api/v1/dossiers/h29.12-251203-0042/withdraw', undefined, staff)).body.code).toBe('H29.12-251203-0042');
  });
});
