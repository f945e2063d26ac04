// The compartment grid is read from a cache while nothing in the database has changed; every
// change, by this service or by another process on the same file, shows on the next read.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';

let t: TestLocker | null = null;
afterEach(async () => {
  await t?.stop();
  t = null;
});

const statusOf = (n: number) => t!.locker.ctx.compartments.list().find((c) => c.number === n);

describe('compartment grid', () => {
  it('shows a loaded dossier and a door opened by hand on the next read', async () => {
    t = await startLocker();
    const staff = await t.login('staff');
    expect(statusOf(1)).toMatchObject({ status: 'free', door: 'closed' });
    const n = await loadDossier(t, staff, 'GRID-1', '0912345678', 'S');
    expect(statusOf(n)).toMatchObject({ status: 'occupied', door: 'closed' });
    t.sim.setDoor(n, true);
    await new Promise((r) => setTimeout(r, 20));
    expect(statusOf(n)).toMatchObject({ door: 'open' });
    const res = await t.api('GET', '/api/v1/compartments', undefined, staff);
    expect(res.body.compartments.find((c: { number: number }) => c.number === n)).toMatchObject({ status: 'occupied', door: 'open' });
  });

  it('shows a change committed by another process on the same database file', async () => {
    t = await startLocker();
    expect(statusOf(3)?.status).toBe('free');
    const other = new Database(join(t.dataDir, 'locker.db'));
    other.prepare('UPDATE compartments SET disabled = 1 WHERE number = 3').run();
    other.close();
    expect(statusOf(3)?.status).toBe('disabled');
  });

  it('does not keep a change that rolled back', async () => {
    t = await startLocker();
    const { store, compartments } = t.locker.ctx;
    expect(() =>
      store.tx(() => {
        store.db.prepare('UPDATE compartments SET disabled = 1 WHERE number = 4').run();
        expect(compartments.list().find((c) => c.number === 4)?.status).toBe('disabled');
        throw new Error('changed my mind');
      }),
    ).toThrow('changed my mind');
    expect(statusOf(4)?.status).toBe('free');
  });

  it('hands out a grid that callers cannot change for each other', async () => {
    t = await startLocker();
    const grid = t.locker.ctx.compartments.list();
    expect(() => {
      grid[0].status = 'fault';
    }).toThrow(TypeError);
    expect(statusOf(grid[0].number)?.status).toBe('free');
  });
});
