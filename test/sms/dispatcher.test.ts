import { afterEach, describe, expect, it } from 'vitest';
import type { SmsChannel, SmsMessage } from '../../server/domain/ports.ts';
import { SMS_BACKOFF_MS, SMS_MAX_ATTEMPTS } from '../../server/sms/dispatcher.ts';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';

/** A gateway that fails as often as the test says. */
class FlakyChannel implements SmsChannel {
  readonly name = 'flaky';
  sent: SmsMessage[] = [];
  failNext = 0;
  calls = 0;
  async send(m: SmsMessage): Promise<void> {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('gateway answered HTTP 503');
    }
    this.sent.push(m);
  }
}

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

describe('SMS delivery', () => {
  it('retries with backoff and records the send once it goes through', async () => {
    const channel = new FlakyChannel();
    channel.failNext = 2;
    t = await startLocker({ overrides: { smsChannel: channel } });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'S-1', '0912345678');
    expect(channel.calls).toBe(1);
    let d = await t.api('GET', '/api/v1/dossiers/S-1', undefined, staff);
    expect(d.body.sms).toBe('queued');

    t.clock.advance(SMS_BACKOFF_MS[0] - 1);
    await t.locker.sms.drain();
    expect(channel.calls).toBe(1);
    t.clock.advance(1);
    await t.locker.sms.drain();
    expect(channel.calls).toBe(2);
    t.clock.advance(SMS_BACKOFF_MS[1]);
    await t.locker.sms.drain();
    expect(channel.sent).toHaveLength(1);
    expect(channel.sent[0].to).toBe('0912345678');
    d = await t.api('GET', '/api/v1/dossiers/S-1', undefined, staff);
    expect(d.body.sms).toBe('sent');
    const sentEvents = t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'sms.sent');
    expect(sentEvents).toEqual([expect.objectContaining({ dossier: 'S-1', data: expect.objectContaining({ to: '09******78', attempt: 3 }) })]);
  });

  it('gives up after the last attempt, audits sms.failed and shows it on the dossier; staff can resend', async () => {
    const channel = new FlakyChannel();
    channel.failNext = SMS_MAX_ATTEMPTS;
    t = await startLocker({ overrides: { smsChannel: channel } });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'S-2', '0912345678');
    for (const wait of SMS_BACKOFF_MS) {
      t.clock.advance(wait);
      await t.locker.sms.drain();
    }
    expect(channel.calls).toBe(SMS_MAX_ATTEMPTS);
    const failed = t.locker.ctx.audit.list(0, 1000).events.filter((e) => e.type === 'sms.failed');
    expect(failed).toEqual([expect.objectContaining({ dossier: 'S-2', data: expect.objectContaining({ to: '09******78', attempts: SMS_MAX_ATTEMPTS }) })]);
    expect(JSON.stringify(failed)).not.toContain('0912345678');
    const d = await t.api('GET', '/api/v1/dossiers/S-2', undefined, staff);
    expect(d.body.sms).toBe('failed');

    const again = await t.api('POST', '/api/v1/dossiers/S-2/resend', undefined, staff);
    expect(again.status).toBe(200);
    await t.locker.sms.drain();
    expect(channel.sent).toHaveLength(1);
    const code = channel.sent[0].text.match(/(?<!\d)\d{6}(?!\d)/)![0];
    expect((await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code })).status).toBe(200);
  });

  it('sends a queued message after a restart, and never one for a dossier already collected', async () => {
    const channel = new FlakyChannel();
    channel.failNext = 1;
    t = await startLocker({ overrides: { smsChannel: channel } });
    const staff = await t.login('staff');
    await loadDossier(t, staff, 'S-3', '0912345678');
    expect(channel.sent).toHaveLength(0);
    t = await t.restart();
    t.clock.advance(SMS_BACKOFF_MS[0]);
    await t.locker.sms.drain();
    expect(channel.sent).toHaveLength(1);

    const store = t.locker.ctx.store.db;
    expect(store.prepare(`SELECT COUNT(*) AS n FROM sms_queue WHERE status = 'sent'`).get()).toEqual({ n: 1 });
    const text = JSON.stringify(store.prepare('SELECT * FROM sms_queue').all()) + JSON.stringify(store.prepare('SELECT * FROM dossiers').all());
    const code = channel.sent[0].text.match(/(?<!\d)\d{6}(?!\d)/)![0];
    expect(text).not.toContain(code);
  });
});
