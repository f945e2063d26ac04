// Auto-confirm: a door opened and shut after the loading unlock confirms its dossier, as the clerk's
// "loaded" would, in the transaction that records the door's closing; a clerk's later "loaded" is
// answered the same without a second SMS; a stop in between is judged at start-up by the same rule.
// Real SQLite in a temp dir, real HTTP, simulated doors, the manual clock.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { confirmOnClose, DOSSIER_STATUSES } from '../../server/domain/lifecycle.ts';
import { startLocker, type StartOptions, type TestLocker } from '../helpers/locker.ts';

let t: TestLocker | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

async function start(opts: StartOptions = {}) {
  t = await startLocker(opts);
  return { t, staff: await t.login('staff', 'clerk') };
}

type Event = { seq: number; type: string; actor: string; compartment?: number; dossier?: string; data?: Record<string, unknown> };
const events = (t: TestLocker, dossier: string): Event[] =>
  t.locker.ctx.store.db
    .prepare<[string], { seq: number; type: string; actor: string; compartment: number | null; dossier: string | null; data: string | null }>(
      'SELECT seq, type, actor, compartment, dossier, data FROM audit_events WHERE dossier = ? ORDER BY seq',
    )
    .all(dossier)
    .map((e) => ({ seq: e.seq, type: e.type, actor: e.actor, compartment: e.compartment ?? undefined, dossier: e.dossier ?? undefined, data: e.data ? JSON.parse(e.data) : undefined }));

async function register(t: TestLocker, staff: string, code: string, phone: string, size = 'S') {
  const r = await t.api('POST', '/api/v1/dossiers', { code, phone, size }, staff);
  expect(r.status).toBe(201);
  return r.body.compartment as number;
}

describe('the lifecycle rule', () => {
  it('confirms on close only a dossier being loaded whose door opened since its unlock, and only when switched on', () => {
    for (const status of DOSSIER_STATUSES) {
      for (const opened of [true, false]) {
        for (const on of [true, false]) {
          expect(confirmOnClose(status, { openedSinceUnlock: opened }, on), `${status}/${opened}/${on}`).toBe(status === 'loading' && opened && on);
        }
      }
    }
  });
});

describe('auto-confirm', () => {
  it('confirms a dossier whose door opens and shuts after the loading unlock: ready, one SMS, audited as confirmed by the door and registered by the clerk', async () => {
    const { t, staff } = await start();
    const n = await register(t, staff, 'AUTO-1', '0912000111');
    t.sim.setDoor(n, true);
    expect((await t.api('GET', '/api/v1/dossiers/AUTO-1', undefined, staff)).body.status).toBe('loading');
    t.sim.setDoor(n, false);
    const d = (await t.api('GET', '/api/v1/dossiers/AUTO-1', undefined, staff)).body;
    expect(d).toMatchObject({ status: 'ready', confirmedBy: 'door', compartment: n });
    expect(d.expiresAt).not.toBeNull();
    await t.locker.sms.drain();
    expect(t.sms().map((m) => m.to)).toEqual(['0912000111']);
    // The code in the SMS works at the kiosk.
    expect((await t.api('POST', '/api/v1/pickups', { phone: '0912000111', code: t.codeFor('0912000111') })).body).toEqual({ compartment: n, doorToken: expect.any(String) });

    const trail = events(t, 'AUTO-1');
    const closed = trail.find((e) => e.type === 'door.closed')!;
    const ready = trail.find((e) => e.type === 'dossier.ready')!;
    // Written in the door's own transaction: nothing comes between the closing and the confirmation.
    expect(ready.seq).toBe(closed.seq + 1);
    expect(ready).toMatchObject({ actor: 'system', compartment: n, data: { confirmedBy: 'door_closed', registeredBy: 'staff:clerk' } });
    expect(JSON.stringify(trail)).not.toContain('0912000111');
  });

  it('answers a later POST .../loaded with 200 and the same body, and sends no second SMS', async () => {
    const { t, staff } = await start();
    const n = await register(t, staff, 'AUTO-2', '0912000222');
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    await t.locker.sms.drain();
    const before = events(t, 'AUTO-2').length;
    for (const code of ['AUTO-2', 'auto-2']) {
      const r = await t.api('POST', `/api/v1/dossiers/${code}/loaded`, undefined, staff);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ code: 'AUTO-2', compartment: n, status: 'ready' });
    }
    await t.locker.sms.drain();
    expect(t.sms()).toHaveLength(1);
    expect(events(t, 'AUTO-2')).toHaveLength(before);
  });

  it('still refuses a second confirm of a dossier a clerk confirmed (invalid_state), as before', async () => {
    const { t, staff } = await start({ env: { LOCKER_AUTO_CONFIRM: 'false' } });
    const n = await register(t, staff, 'MAN-1', '0912000333');
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    expect((await t.api('POST', '/api/v1/dossiers/MAN-1/loaded', undefined, staff)).status).toBe(200);
    const again = await t.api('POST', '/api/v1/dossiers/MAN-1/loaded', undefined, staff);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('invalid_state');
  });

  it('with LOCKER_AUTO_CONFIRM=false leaves the dossier loading once the door shuts, until the clerk confirms', async () => {
    const { t, staff } = await start({ env: { LOCKER_AUTO_CONFIRM: 'false' } });
    const reg = await t.api('POST', '/api/v1/dossiers', { code: 'MAN-2', phone: '0912000444', size: 'S' }, staff);
    expect(reg.body.autoConfirm).toBe(false);
    const n = reg.body.compartment;
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    t.clock.advance(60_000);
    await t.locker.sms.drain();
    expect((await t.api('GET', '/api/v1/dossiers/MAN-2', undefined, staff)).body.status).toBe('loading');
    expect(t.sms()).toHaveLength(0);
    const ok = await t.api('POST', '/api/v1/dossiers/MAN-2/loaded', undefined, staff);
    expect(ok.body).toEqual({ code: 'MAN-2', compartment: n, status: 'ready' });
    expect((await t.api('GET', '/api/v1/dossiers/MAN-2', undefined, staff)).body.confirmedBy).toBe('staff');
    expect(events(t, 'MAN-2').find((e) => e.type === 'dossier.ready')).toMatchObject({ actor: 'staff:clerk' });
  });

  it('confirms nothing when the door never opened, nor a dossier withdrawn while loading, nor one whose door is opened without an unlock', async () => {
    const { t, staff } = await start();
    const n = await register(t, staff, 'NEVER-1', '0912000555');
    // The unlock window passes with the door shut: nothing can be inside.
    t.clock.advance(5 * 60_000);
    t.locker.runExpiry();
    expect((await t.api('GET', '/api/v1/dossiers/NEVER-1', undefined, staff)).body.status).toBe('loading');
    // A forced open and shut after the window (no unlock since): not a loading.
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    expect(events(t, 'NEVER-1').map((e) => e.type)).toContain('door.forced_open');
    expect((await t.api('GET', '/api/v1/dossiers/NEVER-1', undefined, staff)).body.status).toBe('loading');

    const m = await register(t, staff, 'BACK-1', '0912000666');
    t.sim.setDoor(m, true);
    expect((await t.api('POST', '/api/v1/dossiers/BACK-1/withdraw', undefined, staff)).status).toBe(200);
    t.sim.setDoor(m, false);
    expect((await t.api('GET', '/api/v1/dossiers/BACK-1', undefined, staff)).body.status).toBe('withdrawn');
    await t.locker.sms.drain();
    expect(t.sms()).toHaveLength(0);
  });

  it('confirms at start-up a door recorded open before the stop and found shut, and sends its SMS once the queue starts', async () => {
    const first = await start({ keepDir: true });
    const n = await register(first.t, first.staff, 'DOWN-1', '0912000777');
    first.t.sim.setDoor(n, true);
    // The service stops with the door open; it is shut while the service is down (the new run's doors start shut).
    t = await first.t.restart();
    const staff = await t.login('staff', 'clerk');
    const d = (await t.api('GET', '/api/v1/dossiers/DOWN-1', undefined, staff)).body;
    expect(d).toMatchObject({ status: 'ready', confirmedBy: 'door' });
    const ready = events(t, 'DOWN-1').find((e) => e.type === 'dossier.ready')!;
    expect(ready.data).toMatchObject({ confirmedBy: 'door_closed', registeredBy: 'staff:clerk', atStartup: true });
    await t.locker.sms.drain();
    expect(t.sms().map((m) => m.to)).toEqual(['0912000777']);
  });

  it('leaves loading at start-up a dossier whose door was never recorded open (opened and shut while the service was down)', async () => {
    const first = await start({ keepDir: true });
    await register(first.t, first.staff, 'DOWN-2', '0912000888');
    t = await first.t.restart();
    const staff = await t.login('staff', 'clerk');
    expect((await t.api('GET', '/api/v1/dossiers/DOWN-2', undefined, staff)).body.status).toBe('loading');
    await t.locker.sms.drain();
    expect(t.sms()).toHaveLength(0);
  });

  it('confirms after a repair unlock opens and shuts the door of a dossier still loading (the way to finish it after a restart)', async () => {
    const first = await start({ keepDir: true });
    const n = await register(first.t, first.staff, 'DOWN-3', '0912000999');
    t = await first.t.restart();
    const staff = await t.login('staff', 'clerk');
    expect((await t.api('POST', `/api/v1/compartments/${n}/unlock`, { reason: 'loading after a restart' }, staff)).status).toBe(200);
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    expect((await t.api('GET', '/api/v1/dossiers/DOWN-3', undefined, staff)).body.status).toBe('ready');
  });
});

describe('the setting', () => {
  it('is on by default and refuses a value that is not true or false, naming LOCKER_AUTO_CONFIRM', () => {
    expect(loadConfig({}).autoConfirm).toBe(true);
    expect(loadConfig({ LOCKER_AUTO_CONFIRM: 'false' }).autoConfirm).toBe(false);
    expect(() => loadConfig({ LOCKER_AUTO_CONFIRM: 'maybe' })).toThrow(/LOCKER_AUTO_CONFIRM: must be true or false/);
  });
});
