// A power cut between a pickup's commit and its lock pulse, on the real service as systemd runs it:
// two citizens collect at once from a cabinet whose locks are pulsed long and far apart, so the
// second pulse waits in the queue, and the service is killed (SIGKILL) before it comes. After the
// restart neither citizen is told they collected what is still inside, their codes work again, and
// staff can finish both compartments.
import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/clock.ts';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { spawnService, type ServiceProcess } from '../helpers/service.ts';

const PHONES = ['0912345001', '0912345002'];
let dir: string;
let service: ServiceProcess | null = null;
let t: TestLocker | null = null;

afterEach(async () => {
  await service?.kill('SIGKILL');
  service = null;
  await t?.stop();
  t = null;
  rmSync(dir, { recursive: true, force: true });
});

const statuses = (dbPath: string) => {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT code, status FROM dossiers ORDER BY id').all() as { code: string; status: string }[]).map((r) => r.status);
  } finally {
    db.close();
  }
};

describe('a power cut between a pickup commit and its pulse', () => {
  it('gives both dossiers back after the restart: ready, same codes, pickup.reverted, no receipt, nothing stranded', async () => {
    dir = tempDir('locker-powercut-');
    // Two dossiers loaded the ordinary way (fast locks), then the service is stopped.
    // Real time: the child process in between runs on the system clock.
    t = await startLocker({ dataDir: dir, clock: new ManualClock(Date.now()) });
    const staff = await t.login('staff');
    const doors = [await loadDossier(t, staff, 'PC-1', PHONES[0]), await loadDossier(t, staff, 'PC-2', PHONES[1])];
    const codes = PHONES.map((p) => t!.codeFor(p));
    await t.stop();
    t = null;

    // The same cabinet with slow locks: a 2 s pulse, then 10 s before the next.
    const map = JSON.parse(readFileSync(join(dir, 'map.json'), 'utf8'));
    map.locks = { pulseMs: 2000, gapMs: 10_000 };
    const slowMap = join(dir, 'slow-map.json');
    writeFileSync(slowMap, JSON.stringify(map));
    service = spawnService({ LOCKER_DATA_DIR: dir, LOCKER_MAP: slowMap, LOCKER_LOG_LEVEL: 'warn', LOCKER_SMS_RECEIPT_DELAY_S: '0' });
    const url = await service.listening;
    const pickups = PHONES.map((phone, i) =>
      fetch(`${url}/api/v1/pickups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phone, code: codes[i] }) }).catch(() => null),
    );
    const dbPath = join(dir, 'locker.db');
    const until = Date.now() + 10_000;
    while (statuses(dbPath).some((s) => s !== 'picked_up') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(statuses(dbPath)).toEqual(['picked_up', 'picked_up']); // both committed
    await new Promise((r) => setTimeout(r, 500)); // the first pulse is on, the second waits
    await service.kill('SIGKILL');
    await Promise.all(pickups);
    service = null;

    t = await startLocker({ dataDir: dir, clock: new ManualClock(Date.now()), env: { LOCKER_SMS_RECEIPT_DELAY_S: '0' } });
    const staff2 = await t.login('staff');
    const events = t.locker.ctx.store.db.prepare(`SELECT dossier, data FROM audit_events WHERE type = 'pickup.reverted' ORDER BY seq`).all() as { dossier: string; data: string }[];
    expect(events.map((e) => [e.dossier, JSON.parse(e.data).reason])).toEqual([
      ['PC-1', 'restart'],
      ['PC-2', 'restart'],
    ]);
    for (const code of ['PC-1', 'PC-2']) expect((await t.api('GET', `/api/v1/dossiers/${code}`, undefined, staff2)).body.status).toBe('ready');
    await t.locker.sms.drain();
    expect(t.sms().filter((m) => !/(?<!\d)\d{6}(?!\d)/.test(m.text))).toEqual([]); // codes only: no receipt

    // The first citizen comes back and collects; staff take the second dossier back.
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONES[0], code: codes[0] })).status).toBe(200);
    t.sim.setDoor(doors[0], true);
    t.sim.setDoor(doors[0], false);
    expect((await t.api('POST', '/api/v1/dossiers/PC-2/withdraw', undefined, staff2)).status).toBe(200);
    t.sim.setDoor(doors[1], true);
    t.sim.setDoor(doors[1], false);
    const grid = (await t.api('GET', '/api/v1/compartments', undefined, staff2)).body.compartments as { number: number; status: string }[];
    expect(grid.filter((c) => doors.includes(c.number)).map((c) => c.status)).toEqual(['free', 'free']);
  });
});
