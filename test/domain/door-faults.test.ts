// Door faults that time reveals, through the whole locker (real SQLite, real HTTP, simulated
// doors) with hand-driven time: a door that does not open after its unlock (retry once, then
// jammed), a door left open (ajar, repeated), and what the citizen is told.
import { afterEach, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { ManualClock } from '../helpers/clock.ts';
import { ManualScheduler } from './door-fixtures.ts';
import { loadConfig } from '../../server/config/load.ts';

const JAM_S = 5;
const AJAR_S = 60;

let t: TestLocker;
let scheduler: ManualScheduler;
let clock: ManualClock;

async function start(env: Record<string, string> = {}) {
  scheduler = new ManualScheduler();
  clock = new ManualClock();
  t = await startLocker({
    clock,
    overrides: { scheduler },
    env: { LOCKER_JAM_TIMEOUT_S: String(JAM_S), LOCKER_AJAR_TIMEOUT_S: String(AJAR_S), ...env },
  });
  return t;
}

afterEach(async () => {
  await t?.stop();
});

const later = (sec: number) => scheduler.advance(sec * 1000, clock);

function events(type?: string) {
  const rows = t.locker.ctx.store.db
    .prepare('SELECT type, actor, compartment, dossier, data FROM audit_events ORDER BY seq')
    .all() as { type: string; actor: string; compartment: number | null; dossier: string | null; data: string | null }[];
  return rows.map((r) => ({ ...r, data: r.data ? JSON.parse(r.data) : null })).filter((r) => !type || r.type === type);
}

const pulses = (n: number) => t.sim.relayLog.filter((r) => r.energised && r.compartment === n).length;

async function compartment(n: number, token: string) {
  const res = await t.api('GET', '/api/v1/compartments', undefined, token);
  return res.body.compartments.find((c: { number: number }) => c.number === n);
}

describe('a door that does not open after its unlock', () => {
  it('is pulsed once more, then recorded as door.jammed, and its compartment goes to fault', async () => {
    await start();
    const staff = await t.login('staff');
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'J-1', phone: '0912345678', size: 'S' }, staff);
    expect(reg.status).toBe(201);
    const n = reg.body.compartment;
    expect(pulses(n)).toBe(1);

    await later(JAM_S - 1);
    expect(pulses(n)).toBe(1);
    await later(1);
    expect(pulses(n)).toBe(2);
    expect(events('door.unlock_retried')).toEqual([
      expect.objectContaining({ actor: 'system', compartment: n, dossier: 'J-1', data: { reason: 'not_opened', waitedSec: JAM_S, requestedBy: 'staff:staff1' } }),
    ]);
    expect(events('door.jammed')).toEqual([]);

    await later(JAM_S);
    expect(pulses(n)).toBe(2);
    expect(events('door.jammed')).toEqual([
      expect.objectContaining({ actor: 'system', compartment: n, dossier: 'J-1', data: expect.objectContaining({ attempts: 2, waitedSec: 2 * JAM_S }) }),
    ]);
    expect(await compartment(n, staff)).toMatchObject({ status: 'fault', door: 'closed' });
    // A jammed compartment is not handed out again.
    const next = await t.api('POST', '/api/v1/dossiers', { code: 'J-2', phone: '0912345678', size: 'S' }, staff);
    expect(next.body.compartment).not.toBe(n);
  });

  it('is not jammed when it opens after the retry, and that opening counts as authorised', async () => {
    await start({ LOCKER_UNLOCK_WINDOW_S: '3' });
    const staff = await t.login('staff');
    const n = (await t.api('POST', '/api/v1/dossiers', { code: 'J-3', phone: '0912345678', size: 'S' }, staff)).body.compartment;
    await later(JAM_S); // retry pulse, well after the 3 s unlock window
    t.sim.setDoor(n, true);
    await later(JAM_S * 3);
    expect(events('door.jammed')).toEqual([]);
    expect(events('door.forced_open')).toEqual([]);
    expect(events('door.opened')).toEqual([expect.objectContaining({ compartment: n, actor: 'staff:staff1' })]);
    expect(pulses(n)).toBe(2);
  });

  it('is not watched once it opened in time', async () => {
    await start();
    const staff = await t.login('staff');
    const n = (await t.api('POST', '/api/v1/dossiers', { code: 'J-4', phone: '0912345678', size: 'S' }, staff)).body.compartment;
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    await later(JAM_S * 3);
    expect(pulses(n)).toBe(1);
    expect(events().filter((e) => e.type === 'door.unlock_retried' || e.type === 'door.jammed')).toEqual([]);
  });

  it('tells the citizen to contact staff when their door jammed, keeps their code valid, and opens once staff repaired it', async () => {
    await start();
    const staff = await t.login('staff');
    const n = await loadDossier(t, staff, 'P-1', '0912345678');
    const code = t.codeFor('0912345678');

    const first = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    expect(first.status).toBe(200);
    await later(2 * JAM_S);
    expect(events('door.jammed')).toEqual([expect.objectContaining({ compartment: n, dossier: 'P-1', data: expect.objectContaining({ dossierStatus: 'ready' }) })]);
    // The dossier never left: it is ready again, not picked up.
    expect((await t.api('GET', '/api/v1/dossiers/P-1', undefined, staff)).body.status).toBe('ready');

    const again = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    expect(again.status).toBe(503);
    expect(again.body).toEqual({ error: 'door_fault', message: `Door ${n} is jammed and cannot be opened; please contact staff.` });
    expect(pulses(n)).toBe(3); // loading, pickup, retry: none for the refused attempt
    expect(events('door.unlock_refused')).toEqual([expect.objectContaining({ compartment: n, data: { reason: 'jammed', requestedBy: 'citizen' } })]);
    expect((await t.api('GET', '/api/v1/dossiers/P-1', undefined, staff)).body.status).toBe('ready');

    // Staff repair the lock and put the compartment back in service: the same code opens it.
    expect((await t.api('POST', `/api/v1/compartments/${n}/enable`, {}, staff)).status).toBe(200);
    const third = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    expect(third).toMatchObject({ status: 200, body: { compartment: n } });
    t.sim.setDoor(n, true);
    await later(2 * JAM_S);
    expect(events('door.jammed')).toHaveLength(1);
  });
});

describe('a door left open', () => {
  it('raises door.ajar after the timeout, again while it stays open, and no more once shut', async () => {
    await start();
    const staff = await t.login('staff');
    const n = (await t.api('POST', '/api/v1/dossiers', { code: 'A-1', phone: '0912345678', size: 'S' }, staff)).body.compartment;
    t.sim.setDoor(n, true);
    await later(AJAR_S - 1);
    expect(events('door.ajar')).toEqual([]);
    await later(1);
    expect(events('door.ajar')).toEqual([
      expect.objectContaining({ actor: 'system', compartment: n, dossier: 'A-1', data: { openForSec: AJAR_S, alarm: 1 } }),
    ]);
    await later(AJAR_S * 2);
    expect(events('door.ajar').map((e) => e.data.openForSec)).toEqual([AJAR_S, 2 * AJAR_S, 3 * AJAR_S]);
    t.sim.setDoor(n, false);
    await later(AJAR_S * 5);
    expect(events('door.ajar')).toHaveLength(3);
  });

  it('counts a door forced open as left open too', async () => {
    await start();
    t.sim.setDoor(7, true);
    expect(events('door.forced_open')).toEqual([expect.objectContaining({ compartment: 7, actor: 'system' })]);
    await later(AJAR_S);
    expect(events('door.ajar')).toEqual([expect.objectContaining({ compartment: 7 })]);
  });
});

describe('door fault settings', () => {
  it('watch real doors by default, and simulated ones (opened only by a click) only when asked', () => {
    expect(loadConfig({ LOCKER_DOORS: 'gpiod' }).doorTiming).toEqual({ jamSec: 10, ajarSec: 120, debounceMs: 30, pollMs: 50 });
    expect(loadConfig({ LOCKER_DOORS: 'sim' }).doorTiming).toMatchObject({ jamSec: 0, ajarSec: 0 });
    expect(loadConfig({ LOCKER_JAM_TIMEOUT_S: '4', LOCKER_AJAR_TIMEOUT_S: '90' }).doorTiming).toMatchObject({ jamSec: 4, ajarSec: 90 });
    expect(() => loadConfig({ LOCKER_POLL_MS: '80' })).toThrow(/LOCKER_POLL_MS: must be between 10 and 50/);
  });
});
