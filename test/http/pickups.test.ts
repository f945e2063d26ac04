import { afterEach, describe, expect, it } from 'vitest';
import { KIOSK_FREE_FAILURES } from '../../server/domain/dossier-rules.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { seedReadyDossiers, wrongCode } from '../helpers/seed.ts';

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

const unlockCount = () => t.sim.relayLog.filter((r) => r.energised).length;
const INVALID = { error: 'invalid_code', message: 'The phone number or pickup code is not valid.' };

/** Lets the kiosk throttle expire between cases that are not about the throttle. */
const pastThrottle = () => t.clock.advance(16 * 60_000);

describe('every wrong pickup looks the same', () => {
  it('answers the identical invalid_code for a wrong code, a wrong phone, a used code and an expired code, and opens no door', async () => {
    t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: '10080' } });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'A-1', '0912345678');
    await loadDossier(t, staff, 'A-2', '0987654321');
    const code1 = t.codeFor('0912345678');
    const code2 = t.codeFor('0987654321');

    const answers = [];
    let before = unlockCount();
    answers.push(await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: wrongCode(code1) }));
    answers.push(await t.api('POST', '/api/v1/pickups', { phone: '0900000000', code: code1 }));
    answers.push(await t.api('POST', '/api/v1/pickups', { phone: '0987654321', code: code1 }));
    answers.push(await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: '12345' }));
    expect(unlockCount()).toBe(before);

    const ok = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: code1 });
    expect(ok.status).toBe(200);
    before = unlockCount();
    answers.push(await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: code1 }));

    pastThrottle();
    t.clock.advance(8 * 24 * 3600_000);
    t.locker.runExpiry();
    answers.push(await t.api('POST', '/api/v1/pickups', { phone: '0987654321', code: code2 }));

    const last = answers.at(-1)!;
    expect(last.status).toBe(401);
    expect(last.body).toEqual(INVALID);
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(a.body).toEqual(INVALID);
    }
    expect(unlockCount()).toBe(before);
  });
});

describe('the per-dossier budget', () => {
  it('opens no door after the fifth wrong code, even with the right one', async () => {
    t = await startLocker();
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'B-1', '0912345678');
    const code = t.codeFor('0912345678');
    for (let i = 0; i < 5; i++) {
      const r = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: wrongCode(String(Number(code) + i)) });
      expect(r.status).toBe(401);
    }
    pastThrottle();
    const before = unlockCount();
    const r = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    expect(r.status).toBe(401);
    expect(unlockCount()).toBe(before);
    const d = await t.api('GET', '/api/v1/dossiers/B-1', undefined, await t.login('staff'));
    expect(d.body).toMatchObject({ codeLocked: true, failedAttempts: 6 });
  });

  it('lets a resend issue a new code without resetting the count, up to a lifetime cap only staff can lift', async () => {
    t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: '10080' } });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'B-2', '0912345678');
    const fail = async (n: number) => {
      for (let i = 0; i < n; i++) {
        pastThrottle();
        await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: '000000' === t.codeFor('0912345678') ? '000001' : '000000' });
      }
    };
    const resend = async () => {
      t.clock.advance(61_000);
      const r = await t.api('POST', '/api/v1/pickups/resend', { phone: '0912345678' });
      expect(r.status).toBe(202);
      await t.locker.sms.drain();
    };
    await fail(5);
    let d = await t.api('GET', '/api/v1/dossiers/B-2', undefined, staff);
    expect(d.body).toMatchObject({ failedAttempts: 5, codeLocked: true });
    await resend();
    d = await t.api('GET', '/api/v1/dossiers/B-2', undefined, staff);
    expect(d.body).toMatchObject({ failedAttempts: 5, codeLocked: false, resends: 1 });
    await fail(5);
    await resend();
    await fail(5);
    d = await t.api('GET', '/api/v1/dossiers/B-2', undefined, staff);
    expect(d.body).toMatchObject({ failedAttempts: 15, codeLocked: true });
    // No new code (the lock notice that went out carries none).
    const codesSent = () => t.sms().filter((m) => /(?<!\d)\d{6}(?!\d)/.test(m.text)).length;
    const smsBefore = codesSent();
    await resend();
    expect(codesSent()).toBe(smsBefore);
    pastThrottle();
    const before = unlockCount();
    expect((await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: t.codeFor('0912345678') })).status).toBe(401);
    expect(unlockCount()).toBe(before);

    const staffResend = await t.api('POST', '/api/v1/dossiers/B-2/resend', undefined, staff);
    expect(staffResend.status).toBe(200);
    await t.locker.sms.drain();
    pastThrottle();
    const ok = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code: t.codeFor('0912345678') });
    expect(ok.status).toBe(200);
  });

  it('answers a resend with 202 whether or not the phone has a dossier', async () => {
    t = await startLocker();
    for (const phone of ['0912345678', '+84900000000', 'not a phone']) {
      const r = await t.api('POST', '/api/v1/pickups/resend', { phone });
      expect(r.status).toBe(202);
    }
    expect(t.sms()).toEqual([]);
  });
});

describe('brute force at the kiosk', () => {
  it('opens no door for 2,000 guesses against 100 live dossiers, engages the throttle, keeps it across a restart, and still lets the citizen collect', async () => {
    t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: '10080' } });
    const staff = await t.login('staff');
    const phones: string[] = [];
    const codes = new Map<string, string>();
    // The bank has 24 compartments: 24 dossiers are loaded for real, 76 more are seeded.
    for (let i = 0; i < 24; i++) {
      const phone = `09${String(10_000_000 + i).padStart(8, '0')}`;
      phones.push(phone);
      await loadDossier(t, staff, `BF-${i}`, phone, 'S');
      codes.set(phone, t.codeFor(phone));
    }
    const extra = await seedReadyDossiers(t, 76);
    for (const [phone, code] of extra) {
      phones.push(phone);
      codes.set(phone, code);
    }
    const live = t.locker.ctx.store.db.prepare(`SELECT COUNT(*) AS n FROM dossiers WHERE status = 'ready'`).get() as { n: number };
    expect(live.n).toBe(100);

    const before = unlockCount();
    const statuses = new Map<number, number>();
    let firstThrottle = -1;
    for (let i = 0; i < 2000; i++) {
      const phone = phones[i % phones.length];
      let guess = String((i * 7919) % 1_000_000).padStart(6, '0');
      if (guess === codes.get(phone)) guess = wrongCode(guess);
      const r = await t.api('POST', '/api/v1/pickups', { phone, code: guess });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 429 && firstThrottle < 0) {
        firstThrottle = i;
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(r.body.error).toBe('throttled');
      }
      if (i % 50 === 49) t.clock.advance(10_000);
    }
    expect(unlockCount()).toBe(before);
    expect(statuses.get(200)).toBeUndefined();
    expect(firstThrottle).toBeGreaterThanOrEqual(0);
    expect(firstThrottle).toBeLessThan(20);
    expect(statuses.get(429)!).toBeGreaterThan(1900);

    const throttled = t.locker.ctx.pickups.throttleState();
    t = await t.restart();
    const after = await t.api('POST', '/api/v1/pickups', { phone: phones[0], code: codes.get(phones[0])! });
    expect(after.status).toBe(429);
    expect(t.locker.ctx.pickups.throttleState()).toEqual(throttled);

    t.clock.t = throttled.blockedUntil + 1;
    const ok = await t.api('POST', '/api/v1/pickups', { phone: phones[1], code: codes.get(phones[1])! });
    expect(ok.status).toBe(200);
    expect(t.locker.ctx.pickups.throttleState().consecutiveFailures).toBe(0);
  });
});

describe('racing submissions', () => {
  it('unlocks exactly once for fifty concurrent submissions of one valid code', async () => {
    t = await startLocker();
    const staff = await t.login('staff');
    const n = await loadDossier(t, staff, 'R-1', '0912345678');
    const code = t.codeFor('0912345678');
    const before = unlockCount();
    const results = await Promise.all(Array.from({ length: 50 }, () => t.api('POST', '/api/v1/pickups', { phone: '0912345678', code })));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0].body).toEqual({ compartment: n, doorToken: expect.any(String) });
    expect(results.every((r) => r.status === 200 || r.status === 401 || r.status === 429)).toBe(true);
    expect(t.sim.relayLog.filter((r) => r.energised).slice(before)).toEqual([expect.objectContaining({ compartment: n })]);
  });
});

describe('the kiosk throttle', () => {
  it(`slows the kiosk after ${KIOSK_FREE_FAILURES} consecutive failures across all phones and tells how long to wait`, async () => {
    t = await startLocker();
    for (let i = 0; i < KIOSK_FREE_FAILURES; i++) {
      const r = await t.api('POST', '/api/v1/pickups', { phone: `090000000${i}`, code: '123456' });
      expect(r.status).toBe(401);
    }
    const r = await t.api('POST', '/api/v1/pickups', { phone: '0900000009', code: '123456' });
    expect(r.status).toBe(429);
    expect(r.body.error).toBe('throttled');
    expect(r.headers.get('retry-after')).toBe('30');
    t.clock.advance(30_000);
    expect((await t.api('POST', '/api/v1/pickups', { phone: '0900000009', code: '123456' })).status).toBe(401);
    const again = await t.api('POST', '/api/v1/pickups', { phone: '0900000009', code: '123456' });
    expect(again.headers.get('retry-after')).toBe('60');
  });

  it('makes the next citizen wait at most a minute after someone typed wrong codes all night', async () => {
    t = await startLocker();
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'NIGHT-1', '0912000001');
    const code = t.codeFor('0912000001');
    let longest = 0;
    for (let i = 0; i < 200; i++) {
      const r = await t.api('POST', '/api/v1/pickups', { phone: `0900${String(i).padStart(6, '0')}`, code: '123456' });
      if (r.status === 429) {
        const wait = Number(r.headers.get('retry-after'));
        longest = Math.max(longest, wait);
        t.clock.advance(wait * 1000);
      } else expect(r.status).toBe(401);
    }
    expect(longest).toBe(60);
    const blocked = t.locker.ctx.pickups.throttleState();
    expect(blocked.blockedUntil - t.clock.now()).toBeLessThanOrEqual(60_000);
    t.clock.advance(60_000);
    const ok = await t.api('POST', '/api/v1/pickups', { phone: '0912000001', code });
    expect(ok.status).toBe(200);
  });
});
