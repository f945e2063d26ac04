// Several instances share the load: two `locker central` processes in one shared-subscription
// group, on one database (a SQLite file on one host, or PostgreSQL), split the lockers' events
// between them, each stored once; one instance stops and comes back, and its share of what was
// published meanwhile arrives then.
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCentralCli } from '../../server/central/cli.ts';
import { startBroker } from '../helpers/broker.ts';
import { FleetLocker } from './fleet.ts';
import { freshDb, pgUnavailable, waitUntil, type DbKind } from './helpers.ts';
import { spawnCentral, type CentralProcess } from './process.ts';

const pgWhy = await pgUnavailable();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const json = async (url: string, token?: string) => (await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })).json() as Promise<any>;

for (const kind of ['sqlite', 'postgres'] as DbKind[]) {
  const skip = kind === 'postgres' && pgWhy !== null;
  describe.skipIf(skip)(`two central instances on ${kind}${skip ? ` (skipped: PostgreSQL not reachable: ${pgWhy})` : ''}`, () => {
    it('split the events between them, store each once, and lose nothing while one is away', { timeout: 180_000 }, async () => {
      const broker = await startBroker();
      cleanups.push(() => broker.close());
      const place = freshDb(kind);
      cleanups.push(() => place.drop());
      const sink = new PassThrough().resume();
      expect(await runCentralCli(['user', 'add', 'lan', '--role', 'auditor', '--password-stdin'], { stdin: Readable.from([Buffer.from('lan has a long password')]), stdout: sink, stderr: sink }, { ...place.env, CENTRAL_LOG_LEVEL: 'silent' })).toBe(0);
      const env = (n: number) => ({ ...place.env, CENTRAL_MQTT_URL: broker.url, CENTRAL_HOST: '127.0.0.1', CENTRAL_PORT: '0', CENTRAL_MQTT_CLIENT_ID: `central-${n}`, CENTRAL_MQTT_GROUP: 'province' });
      const instances: CentralProcess[] = [];
      for (const n of [1, 2]) {
        const p = await spawnCentral(env(n));
        instances.push(p);
        cleanups.push(() => p.stop());
      }
      for (const p of instances) await waitUntil('subscribed', async () => (await json(`${p.url}/healthz`)).mqtt.subscribed === true);
      const login = await fetch(`${instances[0].url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'lan', password: 'lan has a long password' }) });
      const token = (await login.json()).token;

      const fleet = await Promise.all(['lk-1', 'lk-2', 'lk-3'].map((id) => FleetLocker.start(broker, id)));
      for (const l of fleet) cleanups.push(() => l.stop());
      const round = async (n: number) => {
        for (let i = 0; i < n; i++) await Promise.all(fleet.map((l) => l.pickup()));
      };
      const settled = async (url: string) =>
        waitUntil('every event stored', async () => {
          const ls = (await json(`${url}/api/v1/lockers`, token)).lockers;
          return fleet.every((l) => ls.find((x: any) => x.id === l.id)?.events === l.latestSeq());
        }, 60_000);

      await round(4);
      await settled(instances[1].url);
      const stats = await Promise.all(instances.map(async (p) => (await json(`${p.url}/healthz`)).mqtt));
      const total = fleet.reduce((s, l) => s + l.latestSeq(), 0);
      expect(stats[0].stored).toBeGreaterThan(0);
      expect(stats[1].stored).toBeGreaterThan(0);
      expect(stats[0].stored + stats[1].stored).toBe(total);

      // Instance 2 goes away for a while (an upgrade); its share waits in its session at the broker.
      expect(await instances[1].stop()).toBe(0);
      await round(2);
      const back = await spawnCentral(env(2));
      cleanups.push(() => back.stop());
      await settled(back.url);
      for (const l of fleet) {
        const v = await json(`${back.url}/api/v1/lockers/${l.id}/verify`, token);
        expect(v).toMatchObject({ ok: true, count: l.latestSeq(), gaps: [], broken: [] });
      }
      const pickups = (await json(`${instances[0].url}/api/v1/pickups?limit=1000`, token)).pickups;
      expect(pickups).toHaveLength(3 * 6);
    });
  });
}
