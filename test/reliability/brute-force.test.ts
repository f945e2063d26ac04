// Brute force at scale: 100 live dossiers, 10,000 guesses from the kiosk by an attacker who knows
// every phone number, then a patient attacker who waits out every throttle and asks for new codes
// whenever one locks. No door may open; the figures say how slowly the kiosk lets anyone guess.
import { afterAll, describe, expect, it } from 'vitest';
import type { DossierRow } from '../../server/domain/dossier-row.ts';
import { CODE_TRIES, KIOSK_MAX_DELAY_MS, LIFETIME_FAILURES, RESEND_MIN_INTERVAL_MS } from '../../server/domain/dossier-rules.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { seedReadyDossiers, unlockCount, wrongCode } from '../helpers/seed.ts';
import { captureLogger } from './lib/capture.ts';
import { mulberry32, scaled, suiteSeed, writeFigures } from './lib/figures.ts';
import { LeakScan } from './lib/leaks.ts';

const LIVE = 100;
const GUESSES = scaled(10_000);
const PATIENT_GUESSES = scaled(400);
const PATIENT_TARGETS = 10;
const BOT_INTERVAL_MS = 1000;
const CODE_SPACE = 1_000_000;

let t: TestLocker;
afterAll(async () => {
  await t?.stop();
});

interface Tally {
  sent: number;
  evaluated: number;
  throttled: number;
  other: number;
  /** Sum over guesses of the chance that guess could have opened a door (0 once a code is locked). */
  chance: number;
  /** Guesses that hit a code still able to open its door, per dossier. */
  usable: Map<number, number>;
  /** The longest Retry-After the kiosk answered, in seconds. */
  longestWaitSec: number;
}

const newTally = (): Tally => ({ sent: 0, evaluated: 0, throttled: 0, other: 0, chance: 0, usable: new Map(), longestWaitSec: 0 });

describe('brute force at the kiosk', () => {
  it(`opens no door for ${GUESSES.toLocaleString('en')} guesses against ${LIVE} live dossiers, and a resend never resets a dossier's budget`, async () => {
    const started = Date.now();
    const seed = suiteSeed('brute-force');
    const rnd = mulberry32(seed);
    const log = captureLogger('info');
    const leaks = new LeakScan();
    t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: String(7 * 24 * 60), LOCKER_PICKUP_DAYS: '30' }, overrides: { logger: log.logger } });
    const staff = await t.login('staff');

    // 24 dossiers loaded through the API (every compartment), 76 more seeded: 100 live codes.
    const phones: string[] = [];
    const codes = new Map<string, string>();
    for (let i = 0; i < 24; i++) {
      const phone = `09${String(30_000_000 + i).padStart(8, '0')}`;
      await loadDossier(t, staff, `BF-${i}`, phone, 'S');
      phones.push(phone);
      codes.set(phone, t.codeFor(phone));
    }
    for (const [phone, code] of await seedReadyDossiers(t, LIVE - 24)) {
      phones.push(phone);
      codes.set(phone, code);
    }
    for (const [phone, code] of codes) {
      leaks.addPhone(phone);
      leaks.addCode(code);
    }
    // Follows the restart: always the running locker's connection.
    const db = { prepare: (sql: string) => t.locker.ctx.store.db.prepare(sql) };
    expect((db.prepare(`SELECT COUNT(*) AS n FROM dossiers WHERE status = 'ready'`).get() as { n: number }).n).toBe(LIVE);

    const reissued = new Map<string, string>();
    /** The code the SMS worker would send now (the attacker never sees it; the test must avoid it). */
    const currentCode = (row: DossierRow): string | null =>
      row.code_counter === 1 ? (codes.get(row.phone) ?? null) : (reissued.get(row.phone) ?? null);
    const rowOf = (phone: string) => db.prepare(`SELECT * FROM dossiers WHERE phone = ? AND status = 'ready'`).get(phone) as DossierRow | undefined;
    const failuresSeen = new Map<number, number>();
    const guessOnce = async (tally: Tally, phone: string) => {
      const row = rowOf(phone);
      let guess = String(Math.floor(rnd() * CODE_SPACE)).padStart(6, '0');
      const current = row ? currentCode(row) : null;
      // The attacker does not know the code; a lucky draw of the right one is not what this measures.
      if (guess === current) guess = wrongCode(guess);
      const usable = !!row && row.code_hash !== null && row.failures < row.code_fail_limit && row.expires_at! > t.clock.now();
      const throttleBefore = t.locker.ctx.pickups.throttleState();
      const res = await t.api('POST', '/api/v1/pickups', { phone, code: guess });
      tally.sent++;
      if (res.status === 401) {
        tally.evaluated++;
        if (usable) {
          tally.chance += 1 / CODE_SPACE;
          tally.usable.set(row!.id, (tally.usable.get(row!.id) ?? 0) + 1);
        }
      } else if (res.status === 429) {
        tally.throttled++;
        expect(throttleBefore.blockedUntil).toBeGreaterThan(t.clock.now());
        const wait = Number(res.headers.get('retry-after'));
        expect(wait).toBeGreaterThan(0);
        // One person typing wrong codes may hold the kiosk for a minute, never longer.
        expect(wait).toBeLessThanOrEqual(KIOSK_MAX_DELAY_MS / 1000);
        tally.longestWaitSec = Math.max(tally.longestWaitSec, wait);
      } else {
        tally.other++;
      }
      if (res.status >= 400) leaks.feed('error', JSON.stringify(res.body));
      expect([401, 429], `guess ${tally.sent}: ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
      if (row) {
        const after = db.prepare('SELECT failures FROM dossiers WHERE id = ?').get(row.id) as { failures: number };
        expect(after.failures).toBeGreaterThanOrEqual(failuresSeen.get(row.id) ?? 0);
        failuresSeen.set(row.id, after.failures);
      }
      return res;
    };

    const unlocksBefore = unlockCount(t);
    const seqBefore = t.locker.ctx.audit.latestSeq();

    // Phase 1: a bot typing one guess a second, round the phone numbers, ignoring every 429.
    const impatient = newTally();
    for (let i = 0; i < GUESSES; i++) {
      await guessOnce(impatient, phones[i % phones.length]);
      t.clock.advance(BOT_INTERVAL_MS);
    }
    expect(impatient.other).toBe(0);
    let wrongUnlocks = unlockCount(t) - unlocksBefore;
    expect(wrongUnlocks).toBe(0);
    const impatientMs = GUESSES * BOT_INTERVAL_MS;

    // Every evaluated guess left its pickup.failed event; a 429 evaluates nothing.
    const failedEvents = () => (db.prepare(`SELECT COUNT(*) AS n FROM audit_events WHERE seq > ? AND type = 'pickup.failed'`).get(seqBefore) as { n: number }).n;
    expect(failedEvents()).toBe(impatient.evaluated);

    // The throttle, the counts and the codes survive a restart.
    const throttle = t.locker.ctx.pickups.throttleState();
    t = await t.restart();
    expect(t.locker.ctx.pickups.throttleState()).toEqual(throttle);

    // Phase 2: a patient attacker waits out each 429 and, whenever a code locks, asks for a new one.
    const patient = newTally();
    const patientStart = t.clock.now();
    let resends = 0;
    const nextResendAt = new Map<string, number>();
    for (let i = 0; i < PATIENT_GUESSES; i++) {
      // Ten targets, so their lifetime caps are reached: the budget, not the clock, ends the attack.
      const phone = phones[i % PATIENT_TARGETS];
      const row = rowOf(phone);
      if (row && row.failures >= row.code_fail_limit && (nextResendAt.get(phone) ?? 0) <= t.clock.now()) {
        const r = await t.api('POST', '/api/v1/pickups/resend', { phone });
        expect(r.status).toBe(202);
        resends++;
        nextResendAt.set(phone, t.clock.now() + RESEND_MIN_INTERVAL_MS);
        await t.locker.sms.drain();
        const fresh = rowOf(phone)!;
        if (fresh.code_counter !== row.code_counter) reissued.set(phone, t.codeFor(phone));
        // A new code, never a fresh budget: the failures so far still count.
        expect(fresh.failures).toBe(row.failures);
        expect(fresh.code_fail_limit).toBeLessThanOrEqual(LIFETIME_FAILURES);
      }
      const res = await guessOnce(patient, phone);
      if (res.status === 429) {
        t.clock.advance(Number(res.headers.get('retry-after')) * 1000);
        i--; // the same guess again, once the wait is over
        continue;
      }
      t.clock.advance(BOT_INTERVAL_MS);
    }
    const patientMs = t.clock.now() - patientStart;
    // A new door bus after the restart: its relay log starts empty.
    wrongUnlocks += unlockCount(t);
    expect(wrongUnlocks).toBe(0);
    expect(patient.other).toBe(0);

    // However many resends the attacker asked for, no dossier took more than its lifetime budget.
    const usablePerDossier = new Map<number, number>();
    for (const tally of [impatient, patient]) for (const [id, n] of tally.usable) usablePerDossier.set(id, (usablePerDossier.get(id) ?? 0) + n);
    const maxUsable = Math.max(...usablePerDossier.values());
    expect(maxUsable).toBeLessThanOrEqual(LIFETIME_FAILURES);
    const lifetimeCapped = (db.prepare(`SELECT COUNT(*) AS n FROM dossiers WHERE failures >= ?`).get(LIFETIME_FAILURES) as { n: number }).n;

    // The rightful citizen still collects once staff issue a new code and the wait is over.
    const victim = phones[0];
    const resend = await t.api('POST', '/api/v1/dossiers/BF-0/resend', undefined, await t.login('staff'));
    expect(resend.status).toBe(200);
    await t.locker.sms.drain();
    t.clock.t = Math.max(t.clock.now(), t.locker.ctx.pickups.throttleState().blockedUntil) + 1;
    const ok = await t.api('POST', '/api/v1/pickups', { phone: victim, code: t.codeFor(victim) });
    expect(ok.status).toBe(200);
    expect(t.sim.relayLog.filter((r) => r.energised).map((r) => r.compartment)).toEqual([ok.body.compartment]);

    expect(t.locker.ctx.audit.verify().ok).toBe(true);

    // No code and no phone number in any log line, error body or audit event.
    leaks.addFromSmsFile(t.smsFile);
    leaks.feedLines('log', log.lines.join(''));
    for (const e of t.locker.ctx.audit.list(0, 1_000_000).events) leaks.feed('audit', JSON.stringify(e));
    expect(leaks.hits()).toEqual([]);

    // A 1% chance takes 10,000 guesses that could open a door; at the patient pace each costs
    // patientMs / (guesses that could open), and no dossier offers more than its lifetime cap.
    const patientUsable = [...patient.usable.values()].reduce((a, b) => a + b, 0);
    const guessesPer1 = 0.01 * CODE_SPACE;
    const per1Ms = patientUsable > 0 ? (patientMs / patientUsable) * guessesPer1 : Infinity;
    const days = (ms: number) => (ms === Infinity ? 'never (no usable guess)' : `${(ms / 86_400_000).toFixed(0)} days`);
    writeFigures({
      suite: '3-brute-force',
      title: 'Brute force at the kiosk',
      summary: `${LIVE} live dossiers; ${GUESSES.toLocaleString('en')} guesses from a bot at one per second knowing every phone number, then ${PATIENT_GUESSES} guesses on ${PATIENT_TARGETS} of them from an attacker who waits out every 429 and asks for a new code whenever one locks; one restart between.`,
      inputsTried: impatient.sent + patient.sent + resends,
      faultsInjected: 1,
      doorsWronglyOpened: wrongUnlocks,
      eventsLost: 0,
      details: {
        'live dossiers': LIVE,
        'bot guesses sent': impatient.sent,
        'bot guesses evaluated (401)': impatient.evaluated,
        'bot guesses refused unevaluated (429)': impatient.throttled,
        'bot guesses that could have opened a door': [...impatient.usable.values()].reduce((a, b) => a + b, 0),
        'bot success chance, whole run': impatient.chance.toExponential(2),
        'patient guesses evaluated': patient.evaluated,
        'patient waits (429 answered, then waited out)': patient.throttled,
        'patient resends asked for': resends,
        'patient simulated time': `${(patientMs / 86_400_000).toFixed(1)} days`,
        'patient success chance, whole run': patient.chance.toExponential(2),
        'patient guesses that could have opened a door': patientUsable,
        'time to a 1% chance at the patient pace': `${days(per1Ms)} (${guessesPer1.toLocaleString('en')} such guesses, spread over at least ${Math.ceil(guessesPer1 / LIFETIME_FAILURES)} dossiers)`,
        'guesses that could open a door, most on one dossier (lifetime cap)': `${maxUsable} (cap ${LIFETIME_FAILURES}; ${CODE_TRIES} per code)`,
        'dossiers at their lifetime cap afterwards': lifetimeCapped,
        'most chance any 100 live dossiers can give an attacker': `${((LIVE * LIFETIME_FAILURES) / CODE_SPACE * 100).toFixed(2)}%`,
        'bot simulated time': `${(impatientMs / 3_600_000).toFixed(1)} h`,
        'longest kiosk-wide wait answered (Retry-After)': `${Math.max(impatient.longestWaitSec, patient.longestWaitSec)} s (cap ${KIOSK_MAX_DELAY_MS / 1000} s)`,
        'patient pace, guesses evaluated per hour': (patient.evaluated / (patientMs / 3_600_000)).toFixed(1),
        'time to spend every budget of a full 24-door locker at that pace': `${((24 * LIFETIME_FAILURES) / (patient.evaluated / (patientMs / 3_600_000))).toFixed(1)} h (${24 * LIFETIME_FAILURES} guesses, at most a ${((24 * LIFETIME_FAILURES) / CODE_SPACE * 100).toFixed(3)}% chance of one door)`,
      },
      leaks: leaks.figures(),
      notes: [
        'The chance of a guess is 1/1,000,000 while its dossier\'s code can still open (bound to the phone, under its failure limit, not expired), else 0.',
        'Doors wrongly opened counts relay pulses during the attack; the one pulse afterwards is the rightful citizen\'s.',
      ],
      seed,
      durationMs: Date.now() - started,
    });
  }, 300_000);
});
