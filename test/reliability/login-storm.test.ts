// A parallel login storm from one LAN address, as a guessing script sends it: against one account
// (the admin), against any names (the address), and against the central service. Whatever the
// concurrency, the locker checks at most 5 wrong passwords per account and 20 per address per
// window, runs at most 4 hashes at once, and lets nobody in.
import { afterAll, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS } from '../../server/domain/login-guard.ts';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { startLocker, type TestLocker } from '../helpers/locker.ts';
import { loginStorm, type StormTally } from '../helpers/login-storm.ts';
import { freshDb, startCentral, type DbPlace, type TestCentral } from '../central/helpers.ts';
import { scaled, writeFigures } from './lib/figures.ts';

const ROUNDS = scaled(20);
const PER_ROUND = 100;

let t: TestLocker | undefined;
let c: TestCentral | undefined;
let broker: TestBroker | undefined;
let place: DbPlace | undefined;
afterAll(async () => {
  await t?.stop();
  await c?.stop();
  await place?.drop();
  await broker?.close();
});

describe('parallel login storm', () => {
  it(`checks at most ${LOGIN_LIMITS.userFailures} passwords per account and ${LOGIN_LIMITS.ipFailures} per address for ${(3 * ROUNDS * PER_ROUND).toLocaleString('en')} parallel guesses, and lets nobody in`, async () => {
    const started = Date.now();
    t = await startLocker();
    const lt = t;
    await lt.locker.ctx.auth.addUser('admin1', 'admin', 'the right password');
    const api = (m: string, p: string, b?: unknown) => lt.api(m, p, b);

    // The account: every guess for admin1.
    const account = await loginStorm(api, (i) => ({ username: 'admin1', password: `guess-${i}` }), { rounds: ROUNDS, perRound: PER_ROUND });
    const rightAfterAccount = (await lt.api('POST', '/api/v1/session', { username: 'admin1', password: 'the right password' })).status;
    expect(account.checked).toBeLessThanOrEqual(LOGIN_LIMITS.userFailures);
    expect(rightAfterAccount).toBe(429);

    // The address: a new name with every guess (a fresh window first).
    lt.clock.advance(LOGIN_LIMITS.blockMs + LOGIN_LIMITS.windowMs + 1000);
    const address = await loginStorm(api, (i) => ({ username: `name${i}`, password: `guess-${i}` }), { rounds: ROUNDS, perRound: PER_ROUND });
    expect(address.checked).toBeLessThanOrEqual(LOGIN_LIMITS.ipFailures);
    const failedEvents = lt.locker.ctx.audit.list(0, 1_000_000).events.filter((e) => e.type === 'login.failed').length;
    expect(failedEvents).toBe(account.checked + address.checked);

    // The central service, on its own database.
    broker = await startBroker();
    place = freshDb('sqlite');
    c = await startCentral({ db: place, brokerUrl: broker.url });
    const ct = c;
    await ct.central.ctx.auth.addUser('chief', 'admin', 'the right password');
    const central = await loginStorm((m, p, b) => ct.api(m, p, b), (i) => ({ username: 'chief', password: `guess-${i}` }), { rounds: ROUNDS, perRound: PER_ROUND });
    expect(central.checked).toBeLessThanOrEqual(LOGIN_LIMITS.userFailures);

    const all: StormTally[] = [account, address, central];
    const sum = (k: keyof StormTally) => all.reduce((a, s) => a + s[k], 0);
    expect(sum('admitted')).toBe(0);
    expect(sum('other')).toBe(0);
    writeFigures({
      suite: '9-login-storm',
      title: 'Parallel login storm',
      summary: `${ROUNDS} rounds of ${PER_ROUND} concurrent login guesses each from one address: at the admin account, at a new name every time, and at the central service's admin; the right password is tried after the account's storm.`,
      inputsTried: sum('sent'),
      faultsInjected: 0,
      doorsWronglyOpened: 0,
      eventsLost: 0,
      details: {
        'guesses sent (locker account / locker address / central account)': `${account.sent} / ${address.sent} / ${central.sent}`,
        'passwords checked (401)': `${account.checked} / ${address.checked} / ${central.checked} (limits ${LOGIN_LIMITS.userFailures} / ${LOGIN_LIMITS.ipFailures} / ${LOGIN_LIMITS.userFailures})`,
        'refused unchecked, blocked (429 throttled)': `${account.throttled} / ${address.throttled} / ${central.throttled}`,
        'refused unchecked, hashes busy (429 busy)': `${account.busy} / ${address.busy} / ${central.busy} (at most ${LOGIN_LIMITS.maxHashing} hashes at once)`,
        'the right password after the account storm': `${rightAfterAccount} (blocked)`,
        'logins wrongly let in': sum('admitted'),
      },
      durationMs: Date.now() - started,
    });
  }, 120_000);
});
