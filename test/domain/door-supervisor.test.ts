// What the door sensors say, recorded: start-up reconcile (nothing changes silently), forced
// openings, and sensors that cannot be read.
import { afterEach, describe, expect, it } from 'vitest';
import { SimDoorBus } from '../../firmware-bridge/sim-driver.ts';
import type { DoorState } from '../../firmware-bridge/door-bus.ts';
import { loadLockerMap } from '../../locker-map/load.ts';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { ManualClock } from '../helpers/clock.ts';
import { ManualScheduler } from './door-fixtures.ts';
import { rmSync } from 'node:fs';

/** A bank whose sensors read as the test says at start, and some of which cannot be read at all. */
class BenchBus extends SimDoorBus {
  constructor(
    initial: Record<number, DoorState>,
    readonly unreadable = new Set<number>(),
  ) {
    super(
      loadLockerMap().compartments.map((c) => c.number),
      { pulseMs: 10, gapMs: 0 },
      undefined,
      initial,
    );
  }
  override doorState(n: number): DoorState {
    return this.unreadable.has(n) ? 'unknown' : super.doorState(n);
  }
  fault(n: number, reason: string) {
    this.unreadable.add(n);
    (this as unknown as { emit(e: unknown): void }).emit({ kind: 'sensor_fault', compartment: n, at: Date.now(), reason });
  }
}

const lockers: TestLocker[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const l of lockers.splice(0)) await l.stop().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function run(dataDir: string, doorBus?: SimDoorBus) {
  const t = await startLocker({ dataDir, clock: new ManualClock(), overrides: { scheduler: new ManualScheduler(), ...(doorBus ? { doorBus } : {}) } });
  lockers.push(t);
  return t;
}

function events(t: TestLocker, type: string) {
  return (t.locker.ctx.store.db.prepare('SELECT compartment, dossier, data FROM audit_events WHERE type = ? ORDER BY seq').all(type) as any[]).map((r) => ({
    ...r,
    data: r.data ? JSON.parse(r.data) : null,
  }));
}

describe('door supervisor', () => {
  it('raises an alarm when an occupied compartment is found open at start: never a silent change', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await run(dataDir);
    const staff = await first.login('staff');
    const n = await loadDossier(first, staff, 'S-1', '0912345678');
    await first.locker.stop();
    lockers.length = 0;

    // The power came back with that door open (someone forced it while the locker was off).
    const second = await run(dataDir, new BenchBus({ [n]: 'open' }));
    expect(events(second, 'door.forced_open')).toEqual([{ compartment: n, dossier: 'S-1', data: { atStartup: true } }]);
    const list = await second.api('GET', '/api/v1/compartments', undefined, await second.login('staff'));
    expect(list.body.compartments.find((c: any) => c.number === n)).toMatchObject({ status: 'occupied', door: 'open' });
  });

  it('puts a compartment whose sensor cannot be read at start in fault, once, even on a fresh database', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const t = await run(dataDir, new BenchBus({}, new Set([5])));
    expect(events(t, 'door.sensor_fault')).toEqual([{ compartment: 5, dossier: null, data: { reason: 'unreadable at start', atStartup: true } }]);
    const staff = await t.login('staff');
    const list = await t.api('GET', '/api/v1/compartments', undefined, staff);
    expect(list.body.compartments.find((c: any) => c.number === 5)).toMatchObject({ status: 'fault' });
    await t.locker.stop();
    lockers.length = 0;
    const again = await run(dataDir, new BenchBus({}, new Set([5])));
    expect(events(again, 'door.sensor_fault')).toHaveLength(1);
  });

  it('records a sensor that stops answering while running as one fault, and the door again once it reads', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const bus = new BenchBus({});
    const t = await run(dataDir, bus);
    bus.fault(9, 'gpiomon exited with code 1');
    bus.fault(9, 'gpiomon exited with code 1');
    expect(events(t, 'door.sensor_fault')).toEqual([{ compartment: 9, dossier: null, data: { reason: 'gpiomon exited with code 1' } }]);
    const staff = await t.login('staff');
    expect((await t.api('GET', '/api/v1/compartments', undefined, staff)).body.compartments.find((c: any) => c.number === 9).status).toBe('fault');
    bus.unreadable.delete(9);
    bus.setDoor(9, true);
    expect(events(t, 'door.forced_open')).toEqual([{ compartment: 9, dossier: null, data: null }]);
  });

  it('records a door opened without an unlock as forced open', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const t = await run(dataDir);
    const staff = await t.login('staff');
    const n = await loadDossier(t, staff, 'F-1', '0912345678');
    t.sim.setDoor(n, true);
    expect(events(t, 'door.forced_open')).toEqual([{ compartment: n, dossier: 'F-1', data: null }]);
  });
});
