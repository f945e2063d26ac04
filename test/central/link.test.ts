// Store before acknowledge: while the central database cannot store, nothing is acknowledged to
// the broker, so nothing is lost, neither when the database comes back nor when the service is
// stopped in the meantime and started again.
import { afterEach, describe, expect, it } from 'vitest';
import { openCentralDb } from '../../server/central/db/open.ts';
import type { CentralDb } from '../../server/central/db/sql.ts';
import { startBroker } from '../helpers/broker.ts';
import { FleetLocker } from './fleet.ts';
import { freshDb, startCentral, waitUntil } from './helpers.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** The real database, with every transaction failing as a full or broken disk would while `down`. */
function flaky(real: CentralDb) {
  const state = { down: false, refused: 0 };
  const db: CentralDb = {
    dialect: real.dialect,
    describe: real.describe,
    all: (s, p) => real.all(s, p),
    get: (s, p) => real.get(s, p),
    run: (s, p) => real.run(s, p),
    tx(fn) {
      if (!state.down) return real.tx(fn);
      state.refused++;
      return Promise.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' }));
    },
    close: () => real.close(),
  };
  return { db, state };
}

describe('the central link acknowledges only what it stored', () => {
  it('loses nothing while storage fails, whether storage recovers or the service restarts first', { timeout: 120_000 }, async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const place = freshDb('sqlite');
    cleanups.push(() => place.drop());
    const openReal = () => openCentralDb({ dataDir: place.env.CENTRAL_DATA_DIR, databaseUrl: null, databaseSchema: null });

    let f = flaky(await openReal());
    let central = await startCentral({ db: place, brokerUrl: broker.url, overrides: { db: f.db } });
    cleanups.push(() => central.stop());
    await waitUntil('subscribed', () => central.central.link.status().subscribed);
    const locker = await FleetLocker.start(broker, 'lk-1');
    cleanups.push(() => locker.stop());
    const stored = async () => (await central.central.ctx.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM events'))!.n;

    // Storage fails for a while, then recovers: the waiting messages are stored, in full.
    await locker.pickup();
    await waitUntil('everything stored', async () => (await stored()) === locker.latestSeq());
    f.state.down = true;
    await locker.pickup();
    await waitUntil('a refused store', () => f.state.refused >= 2);
    const health = (await central.api('GET', '/healthz')).body;
    expect(health.mqtt.storeFailures).toBeGreaterThan(0);
    expect(health.mqtt.lastError).toMatch(/^storage: disk I\/O error/);
    const before = await stored();
    expect(before).toBeLessThan(locker.latestSeq());
    f.state.down = false;
    await waitUntil('the backlog stored after recovery', async () => (await stored()) === locker.latestSeq());

    // Storage fails and the service is stopped before it recovers: on the next start the broker
    // delivers again what was never acknowledged.
    f.state.down = true;
    await locker.pickup();
    await waitUntil('refused again', () => f.state.refused >= 4);
    expect(await stored()).toBeLessThan(locker.latestSeq());
    await central.stop();
    f = flaky(await openReal());
    central = await startCentral({ db: place, brokerUrl: broker.url, overrides: { db: f.db } });
    cleanups.push(() => central.stop());
    await waitUntil('everything stored after the restart', async () => (await stored()) === locker.latestSeq());
    const auditor = await central.login('auditor');
    expect((await central.api('GET', '/api/v1/lockers/lk-1/verify', undefined, auditor)).body).toMatchObject({ ok: true, count: locker.latestSeq(), gaps: [], broken: [] });
  });
});
