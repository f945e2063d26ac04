// Model-based test (auto-confirm on, its default: a loading door opened and shut confirms)
// with random interleavings of load, confirm, pickup (right, stale, wrong), resend
// (citizen and staff), withdraw (also while loading), expiry, doors opened, closed or never opened,
// forced opens, failed lock pulses, restarts (also right after a pickup's commit) and staff repairs
// (unlock, release, enable), run against a real locker and against a model written from the rules.
// After every step the answers and audit events match the model, and the invariants hold: never two
// locks energised at once, no compartment booked twice, every unlock has its audit event, the audit
// chain verifies. Liveness: at random moments and at the end of every run, staff finish every
// compartment (close, enable, withdraw or unlock, open, close) and each one must end free.
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Size } from '../../locker-map/schema.ts';
import { PickupCodes } from '../../server/domain/codes.ts';
import { loadOrCreateSecrets } from '../../server/domain/secrets.ts';
import { SimDoorBus } from '../../firmware-bridge/sim-driver.ts';
import type { UnlockResult } from '../../firmware-bridge/door-bus.ts';
import { startLocker, tempDir, type StartOptions, type TestLocker } from '../helpers/locker.ts';
import { captureLogger } from './lib/capture.ts';
import { scaled, suiteSeed, writeFigures } from './lib/figures.ts';
import { LeakScan } from './lib/leaks.ts';
import { LockerModel, type Expect, type MDossier } from './lib/locker-model.ts';

const RUNS = scaled(25);
const MAX_COMMANDS = 60;
const PHONES = ['0912000001', '0912000002', '0912000003', '0987000004', '0356000005'];
const PICKUP_WINDOW_MS = 7 * 86_400_000;
const UNLOCK_WINDOW_MS = 30_000;

/** Simulated doors whose next pulse can be made to fail, as a relay board that stopped answering. */
class FailingBus extends SimDoorBus {
  failNext = false;
  override async unlock(compartment: number): Promise<UnlockResult> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('relay board not answering');
    }
    return super.unlock(compartment);
  }
}

interface Real {
  t: TestLocker;
  bus: FailingBus;
  start: StartOptions;
  codes: PickupCodes;
  token: string;
  tokenAt: number;
  /** Relay log entries already looked at, in the current door bus. */
  relayIndex: number;
  active: Set<number>;
  pulses: Map<number, number>;
  maxEnergised: number;
  steps: number;
  restarts: number;
  log: ReturnType<typeof captureLogger>;
}

const totals = {
  runs: 0,
  steps: 0,
  restarts: 0,
  pulses: 0,
  maxEnergised: 0,
  wrongPulses: 0,
  failedPulses: 0,
  finishes: 0,
  compartmentsFinished: 0,
  stranded: 0,
  byCommand: new Map<string, number>(),
};
const leaks = new LeakScan();
for (const p of PHONES) leaks.addPhone(p);
let current: Real | null = null;

afterEach(async () => {
  await current?.t.stop();
  current = null;
});

async function staffToken(r: Real): Promise<string> {
  if (r.t.clock.now() - r.tokenAt > 6 * 86_400_000) {
    r.token = await r.t.login('staff');
    r.tokenAt = r.t.clock.now();
  }
  return r.token;
}

function codeOf(r: Real, d: MDossier, counter = d.counter): string {
  const row = r.t.locker.ctx.store.db.prepare('SELECT otp_nonce FROM dossiers WHERE id = ?').get(d.id) as { otp_nonce: string };
  return r.codes.generate(row.otp_nonce, counter);
}

/** Reads the relay edges of the current door bus since the last look. */
function harvestRelays(r: Real): void {
  const log = r.t.sim.relayLog;
  for (; r.relayIndex < log.length; r.relayIndex++) {
    const e = log[r.relayIndex];
    if (e.energised) {
      r.active.add(e.compartment);
      r.pulses.set(e.compartment, (r.pulses.get(e.compartment) ?? 0) + 1);
      r.maxEnergised = Math.max(r.maxEnergised, r.active.size);
    } else {
      r.active.delete(e.compartment);
    }
  }
}

/** Runs one step: the real action, then compares answer, events and state with the model. */
async function step(name: string, m: LockerModel, r: Real, expected: Expect, act: () => Promise<{ status: number; body: any } | void>): Promise<void> {
  const db = () => r.t.locker.ctx.store.db;
  const seq = r.t.locker.ctx.audit.latestSeq();
  const res = await act();
  if (expected.newCodes.length > 0 || (expected.notices ?? 0) > 0) await r.t.locker.sms.drain();
  r.steps++;
  totals.byCommand.set(name, (totals.byCommand.get(name) ?? 0) + 1);
  const label = `${name} (step ${r.steps})`;
  if (res) {
    expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(expected.status);
    if (expected.body) expect(res.body, label).toMatchObject(expected.body as object);
    if (res.status >= 400) leaks.feed('error', JSON.stringify(res.body));
  }
  // Let a pulse started by this step finish: 10 ms pulses in the test map.
  if (expected.unlocks.length > 0) await new Promise((resolve) => setTimeout(resolve, 15));

  const events = (db().prepare('SELECT type, compartment FROM audit_events WHERE seq > ? ORDER BY seq').all(seq) as { type: string; compartment: number | null }[]).filter(
    (e) => !e.type.startsWith('login.'),
  );
  expect(events.map((e) => e.type), label).toEqual(expected.events);

  // Every new code went out by SMS to its phone.
  const sms = r.t.sms();
  for (const d of expected.newCodes) {
    const code = codeOf(r, d);
    expect(sms.some((s) => s.to === d.phone && new RegExp(`(?<!\\d)${code}(?!\\d)`).test(s.text)), `${label}: SMS with the new code`).toBe(true);
  }

  // State: compartments, dossiers, kiosk throttle.
  expect(r.t.locker.ctx.compartments.list(), label).toEqual(m.view());
  for (const d of m.dossiers) {
    const row = db().prepare('SELECT code, status, failures, resends, code_counter, code_fail_limit, compartment FROM dossiers WHERE id = ?').get(d.id) as any;
    expect(row, `${label}: dossier ${d.id}`).toMatchObject({ code: d.code, status: d.status, failures: d.failures, resends: d.resends, code_counter: d.counter, compartment: d.compartment });
    if (d.hasCode) expect(row.code_fail_limit, `${label}: fail limit of ${d.code}`).toBe(d.failLimit);
  }
  expect(r.t.locker.ctx.pickups.throttleState(), label).toEqual({ consecutiveFailures: m.kiosk.consecutive, blockedUntil: m.kiosk.blockedUntil });

  // Invariants.
  harvestRelays(r);
  expect(r.maxEnergised, `${label}: two locks energised at once`).toBeLessThanOrEqual(1);
  // An unlock whose pulse failed is audited twice (door.unlocked, door.unlock_failed) and pulsed never.
  const unlocked = db()
    .prepare(
      `SELECT compartment, SUM(CASE type WHEN 'door.unlocked' THEN 1 ELSE -1 END) AS n FROM audit_events
       WHERE type IN ('door.unlocked', 'door.unlock_failed') GROUP BY compartment HAVING n > 0`,
    )
    .all() as { compartment: number; n: number }[];
  const audited = new Map(unlocked.map((u) => [u.compartment, u.n]));
  for (const [n, pulses] of r.pulses) expect(pulses, `${label}: pulses of ${n} without a door.unlocked each`).toBeLessThanOrEqual(audited.get(n) ?? 0);
  expect([...r.pulses.entries()].sort(), `${label}: every door.unlocked was pulsed`).toEqual([...audited.entries()].sort());
  const twice = db().prepare('SELECT dossier_id FROM compartments WHERE dossier_id IS NOT NULL GROUP BY dossier_id HAVING COUNT(*) > 1').all();
  expect(twice, `${label}: a dossier in two compartments`).toEqual([]);
  const shared = db().prepare(`SELECT compartment FROM dossiers WHERE status IN ('loading','ready','expired') GROUP BY compartment HAVING COUNT(*) > 1`).all();
  expect(shared, `${label}: a compartment booked twice`).toEqual([]);
  expect(r.t.locker.ctx.audit.verify().ok, `${label}: audit chain`).toBe(true);
}

/** Stops the locker and starts it again on the same data dir, with a new door bus (doors shut). */
async function restart(r: Real): Promise<void> {
  harvestRelays(r);
  await r.t.locker.stop();
  const failNext = r.bus.failNext;
  r.bus = newBus();
  r.bus.failNext = failNext;
  r.t = await startLocker({ ...r.start, clock: r.t.clock, overrides: { ...r.start.overrides, doorBus: r.bus } });
  current = r;
  r.relayIndex = 0;
  r.active.clear();
  r.restarts++;
}

const newBus = () => new FailingBus(Array.from({ length: 24 }, (_, i) => i + 1), { pulseMs: 10, gapMs: 0 });
const door = (m: LockerModel, r: Real, n: number, open: boolean) =>
  step(open ? 'door opened' : 'door closed', m, r, m.door(n, open), () => r.t.api('POST', `/api/v1/sim/compartments/${n}/door`, { open }));

/**
 * Liveness: staff finish every compartment with the actions they have (close the door, enable,
 * withdraw or a repair unlock, open, close); each must end free. Returns how many were stranded.
 */
async function finishAll(m: LockerModel, r: Real): Promise<number> {
  totals.finishes++;
  const token = await staffToken(r);
  for (const c of [...m.compartments.values()].sort((a, b) => a.number - b.number)) {
    const n = c.number;
    const steps = m.finishSteps(n);
    if (steps.length > 0) totals.compartmentsFinished++;
    for (const s of steps) {
      if (s === 'close') await door(m, r, n, false);
      if (s === 'open') await door(m, r, n, true);
      if (s === 'enable') await step('enable', m, r, m.enable(n), () => r.t.api('POST', `/api/v1/compartments/${n}/enable`, undefined, token));
      if (s === 'unlock') await step('repair unlock', m, r, m.repairUnlock(n), () => r.t.api('POST', `/api/v1/compartments/${n}/unlock`, { reason: 'finish' }, token));
      if (s === 'withdraw') {
        const code = m.byId(c.dossierId)!.code;
        await step('withdraw', m, r, m.withdraw(code), () => r.t.api('POST', `/api/v1/dossiers/${code}/withdraw`, undefined, token));
      }
    }
  }
  const stranded = r.t.locker.ctx.compartments.list().filter((c) => c.status !== 'free').length;
  totals.stranded += stranded;
  return stranded;
}

type Cmd = fc.AsyncCommand<LockerModel, Real>;
const cmd = (name: string, check: (m: LockerModel) => boolean, run: (m: LockerModel, r: Real) => Promise<void>): Cmd => ({
  check,
  run,
  toString: () => name,
});

const pick = <T>(list: T[], i: number): T => list[i % list.length];
const sizes = fc.constantFrom<Size>('S', 'M', 'L');
let codeSerial = 0;

const registerCmd = fc.record({ fresh: fc.boolean(), i: fc.nat(), phone: fc.nat(), size: sizes }).map(({ fresh, i, phone, size }) =>
    cmd(`register(${size})`, () => true, async (m, r) => {
      const code = fresh || m.dossiers.length === 0 ? `MB-${++codeSerial}` : pick(m.dossiers, i).code;
      const token = await staffToken(r);
      const e = m.register(code, pick(PHONES, phone), size);
      await step('register', m, r, e, () => r.t.api('POST', '/api/v1/dossiers', { code, phone: pick(PHONES, phone), size }, token));
    }),
  );

/** Loads and confirms in one go (door opened, shut, confirmed), so runs reach pickups often. */
const loadCmd = fc.record({ phone: fc.nat(), size: sizes }).map(({ phone, size }) =>
  cmd(`load(${size})`, () => true, async (m, r) => {
    const code = `MB-${++codeSerial}`;
    const token = await staffToken(r);
    const e = m.register(code, pick(PHONES, phone), size);
    await step('register', m, r, e, () => r.t.api('POST', '/api/v1/dossiers', { code, phone: pick(PHONES, phone), size }, token));
    if (e.status !== 201) return;
    const n = (e.body as { compartment: number }).compartment;
    await step('door opened', m, r, m.door(n, true), () => r.t.api('POST', `/api/v1/sim/compartments/${n}/door`, { open: true }));
    await step('door closed', m, r, m.door(n, false), () => r.t.api('POST', `/api/v1/sim/compartments/${n}/door`, { open: false }));
    await step('confirm', m, r, m.confirm(code), () => r.t.api('POST', `/api/v1/dossiers/${code}/loaded`, undefined, token));
  }),
);

const commands = [
  registerCmd,
  loadCmd,
  loadCmd,
  fc.nat().map((i) =>
    cmd('confirm', (m) => m.dossiers.length > 0, async (m, r) => {
      const code = pick(m.dossiers, i).code;
      const token = await staffToken(r);
      await step('confirm', m, r, m.confirm(code), () => r.t.api('POST', `/api/v1/dossiers/${code}/loaded`, undefined, token));
    }),
  ),
  ...[1, 2, 3].map(() => fc.tuple(fc.nat(), fc.constantFrom('right', 'right', 'stale', 'wrong', 'stranger')).map(([i, how]) =>
    cmd(`pickup(${how})`, (m) => m.dossiers.length > 0, async (m, r) => {
      const d = pick(m.dossiers, i);
      const phone = how === 'stranger' ? '0399999999' : d.phone;
      let code: string;
      if (how === 'right' && d.counter > 0) code = codeOf(r, d);
      else if (how === 'stale' && d.counter > 1) code = codeOf(r, d, d.counter - 1);
      else code = String((i * 7919 + 13) % 1_000_000).padStart(6, '0');
      const matches = (x: MDossier) => x.hasCode && x.counter > 0 && codeOf(r, x) === code;
      await step(`pickup (${how})`, m, r, m.pickup(phone, matches), () => r.t.api('POST', '/api/v1/pickups', { phone, code }));
    }),
  )),
  fc.nat().map((i) =>
    cmd('resend', () => true, async (m, r) => {
      const phone = pick(PHONES, i);
      await step('resend', m, r, m.resend(phone), () => r.t.api('POST', '/api/v1/pickups/resend', { phone }));
    }),
  ),
  fc.nat().map((i) =>
    cmd('staff resend', (m) => m.dossiers.length > 0, async (m, r) => {
      const code = pick(m.dossiers, i).code;
      const token = await staffToken(r);
      await step('staff resend', m, r, m.staffResend(code), () => r.t.api('POST', `/api/v1/dossiers/${code}/resend`, undefined, token));
    }),
  ),
  fc.nat().map((i) =>
    cmd('withdraw', (m) => m.dossiers.length > 0, async (m, r) => {
      const code = pick(m.dossiers, i).code;
      const token = await staffToken(r);
      await step('withdraw', m, r, m.withdraw(code), () => r.t.api('POST', `/api/v1/dossiers/${code}/withdraw`, undefined, token));
    }),
  ),
  fc.constantFrom(5_000, 31_000, 61_000, 16 * 60_000, PICKUP_WINDOW_MS + 1).map((ms) =>
    cmd(`advance(${ms})`, () => true, async (m, r) => {
      const e = m.advance(ms);
      await step(ms > 86_400_000 ? 'expiry' : 'time passes', m, r, e, async () => {
        // The sweep runs at once: the background one then finds nothing the model does not know.
        r.t.clock.advance(ms);
        r.t.locker.runExpiry();
      });
    }),
  ),
  ...[1, 2].map(() => fc.tuple(fc.nat(), fc.boolean(), fc.boolean()).map(([i, booked, open]) =>
    cmd(`door(${open ? 'open' : 'close'})`, () => true, async (m, r) => {
      const withDossier = [...m.compartments.values()].filter((c) => c.dossierId !== null);
      const n = booked && withDossier.length > 0 ? pick(withDossier, i).number : (i % 24) + 1;
      await step(open ? 'door opened' : 'door closed', m, r, m.door(n, open), () => r.t.api('POST', `/api/v1/sim/compartments/${n}/door`, { open }));
    }),
  )),
  fc.nat().map((i) =>
    cmd('forced open', (m) => [...m.compartments.values()].some((c) => c.door === 'closed' && c.unlockedUntil < m.now), async (m, r) => {
      const locked = [...m.compartments.values()].filter((c) => c.door === 'closed' && c.unlockedUntil < m.now);
      const n = pick(locked, i).number;
      await step('forced open', m, r, m.door(n, true), () => r.t.api('POST', `/api/v1/sim/compartments/${n}/door`, { open: true }));
    }),
  ),
  fc.constant(
    cmd('restart', () => true, async (m, r) => {
      await step('restart', m, r, m.restart(), () => restart(r));
    }),
  ),
  // The power goes right after a pickup's commit: nobody has opened the door yet.
  fc.nat().map((i) =>
    cmd('pickup, then a power cut', (m) => m.dossiers.some((d) => d.status === 'ready' && d.hasCode), async (m, r) => {
      const d = pick(m.dossiers.filter((x) => x.status === 'ready' && x.hasCode), i);
      const code = codeOf(r, d);
      const matches = (x: MDossier) => x.hasCode && x.counter > 0 && codeOf(r, x) === code;
      await step('pickup (right)', m, r, m.pickup(d.phone, matches), () => r.t.api('POST', '/api/v1/pickups', { phone: d.phone, code }));
      await step('restart', m, r, m.restart(), () => restart(r));
    }),
  ),
  fc.nat().map((i) =>
    cmd('register, then withdraw', () => true, async (m, r) => {
      const code = `MB-${++codeSerial}`;
      const token = await staffToken(r);
      const e = m.register(code, pick(PHONES, i), 'S');
      await step('register', m, r, e, () => r.t.api('POST', '/api/v1/dossiers', { code, phone: pick(PHONES, i), size: 'S' }, token));
      if (e.status !== 201) return;
      if (i % 2 === 0) await door(m, r, (e.body as { compartment: number }).compartment, true);
      await step('withdraw', m, r, m.withdraw(code), () => r.t.api('POST', `/api/v1/dossiers/${code}/withdraw`, undefined, token));
    }),
  ),
  fc.constant(
    cmd('the next pulse fails', () => true, async (m, r) => {
      m.failNext = true;
      r.bus.failNext = true;
      totals.failedPulses++;
    }),
  ),
  fc.nat().map((i) =>
    cmd('repair unlock', () => true, async (m, r) => {
      const n = (i % 24) + 1;
      const token = await staffToken(r);
      await step('repair unlock', m, r, m.repairUnlock(n), () => r.t.api('POST', `/api/v1/compartments/${n}/unlock`, { reason: 'look inside' }, token));
    }),
  ),
  fc.nat().map((i) =>
    cmd('release', () => true, async (m, r) => {
      const booked = [...m.compartments.values()].filter((c) => c.dossierId !== null || c.fault);
      const n = booked.length > 0 ? pick(booked, i).number : (i % 24) + 1;
      const token = await staffToken(r);
      await step('release', m, r, m.release(n), () => r.t.api('POST', `/api/v1/compartments/${n}/release`, { reason: 'checked: empty' }, token));
    }),
  ),
  fc.nat().map((i) =>
    cmd('enable', (m) => [...m.compartments.values()].some((c) => c.fault), async (m, r) => {
      const n = pick([...m.compartments.values()].filter((c) => c.fault), i).number;
      const token = await staffToken(r);
      await step('enable', m, r, m.enable(n), () => r.t.api('POST', `/api/v1/compartments/${n}/enable`, undefined, token));
    }),
  ),
  fc.constant(
    cmd('staff finish every compartment', () => true, async (m, r) => {
      m.failNext = r.bus.failNext = false;
      expect(await finishAll(m, r), 'stranded compartments').toBe(0);
    }),
  ),
];

describe('the locker against its model', () => {
  it(`agrees with the model over ${RUNS} random runs of up to ${MAX_COMMANDS} steps, and the invariants hold after every step`, async () => {
    const started = Date.now();
    const seed = suiteSeed('model');
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_COMMANDS, size: 'max' }), async (cmds) => {
        const log = captureLogger('info');
        // Reminders, receipts and the per-phone SMS limit run on their own timers: the SMS suites
        // cover them; here they would only make the SMS side of a step depend on wall-clock time.
        const start: StartOptions = {
          dataDir: tempDir(),
          env: {
            LOCKER_SESSION_TTL_MIN: String(7 * 24 * 60),
            LOCKER_SMS_RECEIPT: 'false',
            LOCKER_SMS_REMINDER_H: '0',
            LOCKER_SMS_PHONE_LIMIT: '1000',
          },
          overrides: { logger: log.logger },
        };
        const bus = newBus();
        const t = await startLocker({ ...start, overrides: { ...start.overrides, doorBus: bus } });
        const r: Real = {
          t,
          bus,
          start,
          codes: new PickupCodes(loadOrCreateSecrets(t.dataDir)),
          token: await t.login('staff'),
          tokenAt: t.clock.now(),
          relayIndex: 0,
          active: new Set(),
          pulses: new Map(),
          maxEnergised: 0,
          steps: 0,
          restarts: 0,
          log,
        };
        current = r;
        harvestRelays(r);
        const m = new LockerModel(
          t.locker.ctx.map.compartments.map((c) => ({ number: c.number, size: c.size })),
          t.clock.now(),
          PICKUP_WINDOW_MS,
          UNLOCK_WINDOW_MS,
        );
        try {
          await fc.asyncModelRun(() => ({ model: m, real: r }), cmds);
          r.bus.failNext = m.failNext = false;
          expect(await finishAll(m, r), 'stranded compartments at the end of the run').toBe(0);
        } finally {
          harvestRelays(r);
          totals.runs++;
          totals.steps += r.steps;
          totals.restarts += r.restarts;
          totals.pulses += [...r.pulses.values()].reduce((a, b) => a + b, 0);
          totals.maxEnergised = Math.max(totals.maxEnergised, r.maxEnergised);
          leaks.addFromSmsFile(r.t.smsFile);
          leaks.feedLines('log', log.lines.join(''));
          // A restart that failed half-way leaves a stopped locker: its own error is the one to see.
          if (r.t.locker.ctx.store.db.open) {
            for (const e of r.t.locker.ctx.audit.list(0, 1_000_000).events) leaks.feed('audit', JSON.stringify(e));
            await r.t.stop();
          }
          rmSync(start.dataDir!, { recursive: true, force: true });
          current = null;
        }
      }),
      // Each shrink step starts a locker: shrinking is cut short rather than outlast the test.
      { numRuns: RUNS, seed, interruptAfterTimeLimit: 420_000, markInterruptAsFailure: true },
    );
    expect(leaks.hits()).toEqual([]);
    writeFigures({
      suite: '4-model',
      title: 'Model-based test of the locker',
      summary: `${RUNS} random runs of up to ${MAX_COMMANDS} steps each (load with auto-confirm on, its default, a confirm repeated after it, confirm, pickup with the right, a stale or a wrong code, citizen and staff resend, withdraw also while loading, time passing and expiry, doors opened, closed or never opened, forced opens, failed lock pulses, restarts also right after a pickup's commit, staff unlock, release and enable) against a real locker and a model of the rules; answers, audit events, compartments, dossiers and the kiosk throttle compared after every step, and every compartment finished by staff at random moments and at the end of each run.`,
      inputsTried: totals.steps,
      faultsInjected: totals.restarts,
      doorsWronglyOpened: totals.wrongPulses,
      eventsLost: 0,
      details: {
        'runs': totals.runs,
        'steps': totals.steps,
        'restarts': totals.restarts,
        'lock pulses (each matched to its door.unlocked event)': totals.pulses,
        'most locks energised at once': totals.maxEnergised,
        'lock pulses made to fail': totals.failedPulses,
        'liveness checks (staff finish every compartment)': totals.finishes,
        'compartments finished by staff in them': totals.compartmentsFinished,
        'compartments left stranded': totals.stranded,
        'steps by kind': [...totals.byCommand].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}: ${n}`).join(', '),
      },
      leaks: leaks.figures(),
      notes: [
        'Events lost is 0 because every step compares the exact list of new audit events with the model\'s; a missing event fails the run.',
        'Doors wrongly opened is 0 because every pulse must match a door.unlocked event the model predicted.',
      ],
      seed,
      durationMs: Date.now() - started,
    });
  }, 600_000);
});
