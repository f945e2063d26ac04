// The central service's login under parallel guessing: the same guard as the locker's, over its
// own database (SQLite and PostgreSQL), and a block that outlives a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { loginStorm } from '../helpers/login-storm.ts';
import { freshDb, pgUnavailable, startCentral, type DbKind, type DbPlace, type TestCentral } from './helpers.ts';

const pgWhy = await pgUnavailable();

for (const kind of ['sqlite', 'postgres'] as DbKind[]) {
  const skip = kind === 'postgres' && pgWhy !== null;
  describe.skipIf(skip)(`central login on ${kind}${skip ? ` (skipped: PostgreSQL not reachable: ${pgWhy})` : ''}`, () => {
    let broker: TestBroker;
    let place: DbPlace;
    let c: TestCentral;
    beforeAll(async () => {
      broker = await startBroker();
      place = freshDb(kind);
      c = await startCentral({ db: place, brokerUrl: broker.url });
    });
    afterAll(async () => {
      await c?.stop();
      await place?.drop();
      await broker?.close();
    });

    it('checks at most 5 wrong passwords per account whatever the concurrency, and the block outlives a restart', async () => {
      await c.central.ctx.auth.addUser('chief', 'admin', 'the right password');
      const storm = await loginStorm((m, p, b) => c.api(m, p, b), (i) => ({ username: 'chief', password: `guess-${i}` }), { rounds: 10, perRound: 50 });
      expect(storm.checked).toBe(5);
      expect(storm.admitted + storm.other).toBe(0);
      expect((await c.api('POST', '/api/v1/session', { username: 'chief', password: 'the right password' })).status).toBe(429);
      await c.stop();
      c = await startCentral({ db: place, brokerUrl: broker.url });
      const after = await c.api('POST', '/api/v1/session', { username: 'chief', password: 'the right password' });
      expect(after.status).toBe(429);
      expect(after.body.error).toBe('throttled');
    });
  });
}
