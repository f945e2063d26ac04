// A citizen whose code locked, or whose dossier expired, is told by SMS what to do: the kiosk keeps
// answering invalid_code (no oracle), the SMS names the office's hotline and hours and carries no code.
// Once per lock, once per expiry, queued in the same transaction as the lock or the expiry.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { smsParts } from '../../server/sms/encoding.ts';
import { NO_TEMPLATES, renderSms } from '../../server/sms/templates.ts';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { wrongCode } from '../helpers/seed.ts';
import { ManualScheduler } from './manual-time.ts';

const PHONE = '0912345678';
const SIX = /(?<!\d)\d{6}(?!\d)/;
const DAY = 86_400_000;
const OFFICE = { LOCKER_OFFICE_HOTLINE: '024 3825 3536', LOCKER_OFFICE_HOURS: '7:30-17:00 T2-T6' };
const INVALID = { error: 'invalid_code', message: 'The phone number or pickup code is not valid.' };

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

const texts = () => t.sms().filter((m) => m.to === PHONE).map((m) => m.text);
const kinds = () => t.locker.ctx.store.db.prepare<[], { kind: string }>('SELECT kind FROM sms_queue ORDER BY id').all().map((r) => r.kind);
const pastThrottle = () => t.clock.advance(16 * 60_000);

async function failFive(code: string) {
  for (let i = 0; i < 5; i++) {
    pastThrottle();
    const r = await t.api('POST', '/api/v1/pickups', { phone: PHONE, code: wrongCode(String((Number(code) + i) % 1_000_000).padStart(6, '0')) });
    expect(r.body).toEqual(INVALID);
  }
}

describe('citizen notices', () => {
  it('tells the citizen once, by SMS with the hotline and hours and no code, when the code locks; the kiosk still says invalid_code', async () => {
    t = await startLocker({ env: OFFICE });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'N-1', PHONE);
    const code = t.codeFor(PHONE);
    await failFive(code);
    await t.locker.sms.drain();
    expect(texts()).toHaveLength(2);
    const notice = texts()[1];
    expect(notice).toContain('da bi khoa');
    expect(notice).toContain('N-1');
    expect(notice).toContain('024 3825 3536');
    expect(notice).toContain('7:30-17:00 T2-T6');
    expect(notice).not.toMatch(SIX);

    // More wrong tries, and the right code, change nothing: still invalid, no second notice.
    pastThrottle();
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).body).toEqual(INVALID);
    pastThrottle();
    await failFive(code);
    await t.locker.sms.drain();
    expect(texts()).toHaveLength(2);
    expect(kinds().filter((k) => k === 'code_locked')).toHaveLength(1);

    // A new code from staff starts a new episode: its lock is told again.
    await t.api('POST', '/api/v1/dossiers/N-1/resend', undefined, staff);
    await t.locker.sms.drain();
    pastThrottle();
    await failFive(t.codeFor(PHONE));
    await t.locker.sms.drain();
    expect(kinds().filter((k) => k === 'code_locked')).toHaveLength(2);
    const sent = t.locker.ctx.audit.list(0, 10_000).events.filter((e) => e.type === 'sms.sent').map((e) => e.data!.kind);
    expect(sent).toEqual(['pickup_code', 'code_locked', 'pickup_code', 'code_locked']);
  });

  it('tells the citizen once when the dossier expires, and again after staff revive it and it expires again', async () => {
    t = await startLocker({ env: { ...OFFICE, LOCKER_PICKUP_DAYS: '1', LOCKER_SMS_REMINDER_H: '0', LOCKER_SESSION_TTL_MIN: '10080' } });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'N-2', PHONE);
    const code = t.codeFor(PHONE);
    t.clock.advance(DAY + 1);
    expect(t.locker.runExpiry()).toBe(1);
    expect(t.locker.runExpiry()).toBe(0);
    await t.locker.sms.drain();
    expect(texts()).toHaveLength(2);
    expect(texts()[1]).toContain('qua han');
    expect(texts()[1]).toContain('024 3825 3536');
    expect(texts()[1]).not.toMatch(SIX);
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).body).toEqual(INVALID);

    const revived = await t.api('POST', '/api/v1/dossiers/N-2/extend', { days: 1, reason: 'citizen called' }, staff);
    expect(revived.body).toMatchObject({ status: 'ready' });
    t.clock.advance(DAY + 1);
    expect(t.locker.runExpiry()).toBe(1);
    await t.locker.sms.drain();
    expect(kinds()).toEqual(['pickup_code', 'expired', 'pickup_code', 'expired']);
  });

  it('queues the expiry notice in the expiry transaction: a withdrawal before it is sent drops it', async () => {
    // Timers are fake: nothing is sent unless the test drains the queue.
    const sched = new ManualScheduler();
    t = await startLocker({ env: { LOCKER_PICKUP_DAYS: '1', LOCKER_SESSION_TTL_MIN: '10080' }, clock: sched.clock, overrides: { scheduler: sched } });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'N-3', PHONE);
    t.clock.advance(DAY + 1);
    t.locker.ctx.dossiers.expireDue();
    expect(kinds()).toEqual(['pickup_code', 'expired']);
    expect((await t.api('POST', '/api/v1/dossiers/N-3/withdraw', undefined, staff)).status).toBe(200);
    await t.locker.sms.drain();
    expect(texts()).toHaveLength(1);
  });
});

describe('notice texts', () => {
  it('carry no 6-digit number and fit one SMS, with or without an office configured, in either encoding', () => {
    for (const office of [undefined, { hotline: null, hours: null }, { hotline: '1900 1234 56', hours: '7:30-11:30, 13:30-17:00' }]) {
      for (const encoding of ['gsm7', 'ucs2'] as const) {
        const o = { templates: NO_TEMPLATES, location: 'UBND phường 123456', encoding, office, dossierTail: 6 };
        for (const text of [renderSms('code_locked', { dossier: 'H29-251123' }, o), renderSms('expired', { dossier: '123456' }, o)]) {
          expect(text).not.toMatch(SIX);
          expect(smsParts(text)).toBe(1);
        }
      }
    }
  });

  it('refuses an office hotline that holds a standalone 6-digit number', () => {
    const base = { LOCKER_DATA_DIR: tempDir() };
    expect(() => loadConfig({ ...base, LOCKER_OFFICE_HOTLINE: '1900 123456' })).toThrow(/LOCKER_OFFICE_HOTLINE.*6-digit/);
    expect(loadConfig({ ...base, ...OFFICE }).smsOptions.office).toEqual({ hotline: '024 3825 3536', hours: '7:30-17:00 T2-T6' });
  });
});
