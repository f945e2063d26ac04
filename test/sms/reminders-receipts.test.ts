// Reminders before the deadline, receipts after a pickup, the per-phone limit and configured texts,
// on a real locker whose timers are fake (ManualScheduler on the ManualClock).
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { loadDossier, startLocker, tempDir, type TestLocker } from '../helpers/locker.ts';
import { ManualScheduler } from './manual-time.ts';

const PHONE = '0912345678';
const SIX = /(?<!\d)\d{6}(?!\d)/g;
const HOUR = 3600_000;
// 21:40 in Hà Nội (UTC+7).
const T0 = Date.parse('2026-11-23T14:40:00Z');

let t: TestLocker | null = null;
let sched: ManualScheduler;
afterEach(async () => {
  await t?.stop();
  t = null;
});

async function locker(env: Record<string, string> = {}, dataDir?: string) {
  sched = sched && dataDir ? sched : new ManualScheduler();
  if (!dataDir) sched.clock.t = T0;
  t = await startLocker({ clock: sched.clock, dataDir, env, overrides: { scheduler: sched } });
  return t;
}

/** Jumps the clock (a quiet stretch), then lets the timers run for `thenMs`. */
async function later(jumpMs: number, thenMs = 0) {
  sched.clock.advance(jumpMs);
  await sched.advance(thenMs);
  await t!.locker.sms.drain();
}

const texts = (phone = PHONE) => t!.sms().filter((m) => m.to === phone).map((m) => m.text);
const sentKinds = () => t!.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'sms.sent').map((e) => (e.data as { kind: string }).kind);

async function collect(t: TestLocker, code = t.codeFor(PHONE)) {
  const r = await t.api('POST', '/api/v1/pickups', { phone: PHONE, code });
  expect(r.status).toBe(200);
  t.sim.setDoor(r.body.compartment, true);
  t.sim.setDoor(r.body.compartment, false);
  return r.body.compartment as number;
}

describe('reminder before the deadline', () => {
  it('goes out the configured time before expiry, once, without any code, naming the deadline', async () => {
    const t = await locker({ LOCKER_PICKUP_DAYS: '3', LOCKER_SMS_REMINDER_H: '24' });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'R-1', PHONE);
    expect(texts()).toHaveLength(1);

    await later(48 * HOUR - 30_000, 20_000); // 10 s before it is due
    expect(texts()).toHaveLength(1);
    await later(0, 20_000);
    expect(texts()).toHaveLength(2);
    const reminder = texts()[1];
    expect(reminder.match(SIX)).toBeNull();
    expect(reminder).toContain('21:40 26/11');
    expect(reminder).toContain('Dung ma nhan da gui qua SMS');
    expect(reminder).toContain('R-1');
    expect(sentKinds()).toEqual(['pickup_code', 'reminder']);

    // Neither more time nor a restart sends it again; the code from the first SMS still works.
    await later(HOUR, 60_000);
    await t.locker.stop(); // one copy per data dir: the restart comes after the stop
    const again = await locker({ LOCKER_PICKUP_DAYS: '3', LOCKER_SMS_REMINDER_H: '24' }, t.dataDir);
    await sched.advance(60_000);
    await again.locker.sms.drain();
    expect(texts()).toHaveLength(2);
    await collect(again, texts()[0].match(SIX)![0]);
  });

  it('is not sent for a dossier already collected (while one still waiting gets it)', async () => {
    const t = await locker({ LOCKER_PICKUP_DAYS: '2', LOCKER_SMS_REMINDER_H: '36' });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'R-2', PHONE);
    await loadDossier(t, staff, 'R-3', '0987654321');
    await collect(t);
    await later(13 * HOUR, 60_000);
    expect(texts().filter((m) => m.includes('Nhac hen'))).toHaveLength(0);
    expect(texts('0987654321')).toEqual([expect.stringContaining('Ma nhan'), expect.stringContaining('Nhac hen')]);
  });

  it('is not sent when the whole pickup window is shorter than the lead time', async () => {
    const t = await locker({ LOCKER_PICKUP_DAYS: '1', LOCKER_SMS_REMINDER_H: '36' });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'R-5', PHONE);
    await later(HOUR, 20_000);
    await later(20 * HOUR, 20_000);
    expect(texts()).toHaveLength(1);
  });

  it('is not sent when the locker notices too late (it was off until minutes before the deadline)', async () => {
    const t = await locker({ LOCKER_PICKUP_DAYS: '3', LOCKER_SMS_REMINDER_H: '24' });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'R-4', PHONE);
    await later(72 * HOUR - 10 * 60_000, 20_000);
    expect(texts()).toHaveLength(1);
  });
});

describe('receipt after a pickup', () => {
  it('says when and from which door, after the configured delay, once, and carries no code', async () => {
    const t = await locker({ LOCKER_SMS_RECEIPT_DELAY_S: '30' });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'P-1', PHONE);
    const code = t.codeFor(PHONE);
    sched.clock.t = Date.parse('2026-11-23T14:47:10Z'); // 21:47 in Hà Nội
    const door = await collect(t, code);

    await sched.advance(20_000);
    await t.locker.sms.drain();
    expect(texts()).toHaveLength(1);
    await sched.advance(20_000);
    await t.locker.sms.drain();
    expect(texts()).toHaveLength(2);
    const receipt = texts()[1];
    expect(receipt).toContain('21:47 23/11');
    expect(receipt).toContain(`ngan ${door},`);
    expect(receipt).toContain('P-1');
    expect(receipt.match(SIX)).toBeNull();
    expect(receipt).not.toContain(code);
    expect(sentKinds()).toEqual(['pickup_code', 'receipt']);

    await later(HOUR, 60_000);
    expect(texts()).toHaveLength(2);
  });

  it('is not sent when the lock did not open (the dossier is still inside), and is sent after the real pickup', async () => {
    const t = await locker();
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'P-2', PHONE);
    const code = t.codeFor(PHONE);
    const unlock = t.sim.unlock.bind(t.sim);
    t.sim.unlock = async () => {
      throw new Error('relay driver fault');
    };
    expect((await t.api('POST', '/api/v1/pickups', { phone: PHONE, code })).status).toBe(503);
    await sched.advance(120_000);
    await t.locker.sms.drain();
    expect(texts()).toHaveLength(1);

    t.sim.unlock = unlock;
    t.locker.ctx.compartmentAdmin.enable('staff:staff1', (await t.api('GET', '/api/v1/dossiers/P-2', undefined, staff)).body.compartment); // repaired
    await collect(t, code);
    await sched.advance(60_000);
    await t.locker.sms.drain();
    expect(texts()).toEqual([expect.any(String), expect.stringContaining('da duoc nhan')]);
  });

  it('can be switched off', async () => {
    const t = await locker({ LOCKER_SMS_RECEIPT: 'false' });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'P-3', PHONE);
    await collect(t);
    await sched.advance(120_000);
    await t.locker.sms.drain();
    expect(texts()).toHaveLength(1);
  });
});

describe('per-phone limit', () => {
  it('holds a message to a phone that had its share, without spending an attempt, and sends it when the window allows', async () => {
    const t = await locker({ LOCKER_SMS_PHONE_LIMIT: '2', LOCKER_SMS_PHONE_WINDOW_MIN: '10' });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'L-1', PHONE);
    sched.clock.advance(60_000);
    await loadDossier(t, staff, 'L-2', PHONE);
    await loadDossier(t, staff, 'L-3', PHONE);
    await loadDossier(t, staff, 'L-4', '0987654321'); // another phone is not held up
    expect(texts()).toHaveLength(2);
    expect(texts('0987654321')).toHaveLength(1);
    const held = () => t.locker.ctx.store.db.prepare(`SELECT q.status, q.attempts FROM sms_queue q JOIN dossiers d ON d.id = q.dossier_id WHERE d.code = 'L-3'`).get();
    expect(held()).toEqual({ status: 'queued', attempts: 0 });

    // The first message leaves the window 10 minutes after it went.
    await later(9 * 60_000 - 2_000, 1_000);
    expect(texts()).toHaveLength(2);
    await sched.advance(2_000);
    await t.locker.sms.drain();
    expect(texts()).toHaveLength(3);
    expect(held()).toEqual({ status: 'sent', attempts: 1 });
  });
});

describe('configured texts', () => {
  it('uses the configured templates, without diacritics in plain mode', async () => {
    const t = await locker({
      LOCKER_SMS_PLAIN: 'true',
      LOCKER_OFFICE_HOTLINE: '024 3825 3536',
      LOCKER_SMS_TEMPLATE_CODE: 'UBND: mã {code}, HS {dossier}, hạn {deadline}, tại {location}. ĐT {hotline}',
      LOCKER_SMS_TEMPLATE_RECEIPT: 'Đã nhận HS {dossier} lúc {time}, ngăn {door}. ĐT {hotline}',
      LOCKER_SMS_RECEIPT_DELAY_S: '0',
    });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'T-1', PHONE);
    expect(texts()[0]).toMatch(/^UBND: ma \d{6}, HS T-1, han 21:40 30\/11, tai .+\. DT 024 3825 3536$/);
    const door = await collect(t);
    await sched.advance(10_000);
    await t.locker.sms.drain();
    expect(texts()[1]).toBe(`Da nhan HS T-1 luc 21:40 23/11, ngan ${door}. DT 024 3825 3536`);
  });

  it('refuses templates that would leak or lose the code, naming the variable', () => {
    const load = (env: Record<string, string>) => () => loadConfig({ LOCKER_DATA_DIR: tempDir(), ...env });
    expect(load({ LOCKER_SMS_TEMPLATE_REMINDER: 'Mã {code}' })).toThrow(/LOCKER_SMS_TEMPLATE_REMINDER: unknown placeholder \{code\}/);
    expect(load({ LOCKER_SMS_TEMPLATE_RECEIPT: 'Nhận lúc {time} {code}' })).toThrow(/LOCKER_SMS_TEMPLATE_RECEIPT/);
    expect(load({ LOCKER_SMS_TEMPLATE_CODE: 'Hạn {deadline}' })).toThrow(/LOCKER_SMS_TEMPLATE_CODE: must contain \{code\} exactly once/);
    expect(load({ LOCKER_SMS_TEMPLATE_CODE: 'Mã {code}, hotline 190012' })).toThrow(/6-digit/);
    expect(load({ LOCKER_SMS_TEMPLATE_CODE: 'Mã {code}, HS {dossier}' })).toThrow(/LOCKER_SMS_TEMPLATE_CODE: must contain \{hotline\}/);
    expect(load({ LOCKER_SMS_TEMPLATE_RECEIPT: 'Nhận ở {room}' })).toThrow(/unknown placeholder \{room\}/);
    expect(load({ LOCKER_SMS_REMINDER_H: '-1' })).toThrow(/LOCKER_SMS_REMINDER_H/);
    expect(load({ LOCKER_SMS_PHONE_LIMIT: '0' })).toThrow(/LOCKER_SMS_PHONE_LIMIT/);
  });
});
