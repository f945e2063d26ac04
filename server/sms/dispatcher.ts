// Sends queued SMS outside the HTTP request, with retries and backoff; every outcome is audited.
//
// Nothing is sent twice after a restart. A row is claimed (`sending`) before the channel is called,
// and marked `handed` by the channel right before the message irrevocably leaves (HTTP request made,
// PDU written at the modem's prompt). After a crash:
//   sending -> queued again: nothing left the locker, so sending it now is the first and only time;
//   handed  -> failed, audited `sms.failed` with reason `interrupted` and shown on the dossier, NOT sent
//              again: it may well have reached the phone, and a second copy (or a new code) is worse
//              than staff or the citizen asking for a resend. A gateway that deduplicates by message id
//              (LOCKER_SMS_HTTP_IDEMPOTENT with {{id}}) is the exception: such rows are simply retried.
// A timeout after handover is the same ambiguity at run time; there the rule holds (a timeout
// is a failure to retry), so use {{id}} with a gateway that deduplicates if a double text matters.
import type { Logger } from 'pino';
import type { Store } from '../db/store.ts';
import type { AuditLog } from '../domain/audit-log.ts';
import type { PickupCodes } from '../domain/codes.ts';
import { maskPhone } from '../domain/phone.ts';
import type { Clock, Scheduler } from '../domain/ports.ts';
import type { ChannelHealth, DeliveryReport, ExtendedSmsChannel, SendResult } from './channel.ts';
import { ChannelWatch } from './channel-watch.ts';
import { SmsPlanner } from './planner.ts';
import type { SmsQueue, SmsRow } from './queue.ts';
import type { SmsEncoding } from './encoding.ts';
import { DEFAULT_DOSSIER_TAIL, NO_TEMPLATES, renderSms, type OfficeContact, type SmsTemplates, type TextSettings } from './templates.ts';

export const SMS_BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000];
export const SMS_MAX_ATTEMPTS = SMS_BACKOFF_MS.length + 1;
/** How long a sent message may wait for its delivery report. */
export const DELIVERY_REPORT_WINDOW_MS = 3 * 24 * 3600_000;

interface DossierForSms {
  id: number;
  code: string;
  phone: string;
  compartment: number;
  status: string;
  otp_nonce: string;
  code_counter: number;
  expires_at: number | null;
  closed_at: number | null;
  door_opened_at: number | null;
}

export interface DispatcherOptions {
  location: string;
  /** gsm7 (no diacritics, 160 septets) or ucs2 (70 characters); the start-up check measured with it. */
  encoding: SmsEncoding;
  /** Trailing characters of the dossier code in every text. */
  dossierTail?: number;
  pollMs?: number;
  templates?: SmsTemplates;
  /** Named in the code-locked and expiry notices. */
  office?: OfficeContact;
  /** Prefix of the message id handed to gateways ({{id}}). */
  lockerId?: string;
  /** At most `phoneLimit` messages to one phone within `phoneWindowMs`; more wait their turn. */
  phoneLimit?: number;
  phoneWindowMs?: number;
  /** Reminder this long before the deadline (0: none). */
  reminderBeforeMs?: number;
  /** Receipt this long after a pickup (null: none). */
  receiptDelayMs?: number | null;
  plannerEveryMs?: number;
  /** How long the channel may be unable to send before `sms.modem_lost` is audited. */
  alarmAfterMs?: number;
}

/** The `sms` part of /healthz. */
export interface SmsStatus {
  channel: string;
  state: ChannelHealth['state'];
  reason?: string;
  queued: number;
  failed: number;
  sent: number;
  delivered: number;
  [detail: string]: unknown;
}

export class SmsDispatcher {
  private stopTimer: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly dossier;
  private readonly unsubscribe: (() => void)[] = [];
  readonly planner: SmsPlanner;
  private readonly watch: ChannelWatch;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly queue: SmsQueue,
    private readonly channel: ExtendedSmsChannel,
    private readonly codes: PickupCodes,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly log: Logger,
    private readonly opts: DispatcherOptions,
  ) {
    this.dossier = store.db.prepare<[number], DossierForSms>(
      'SELECT id, code, phone, compartment, status, otp_nonce, code_counter, expires_at, closed_at, door_opened_at FROM dossiers WHERE id = ?',
    );
    this.planner = new SmsPlanner(store, queue, clock, log, {
      reminderBeforeMs: opts.reminderBeforeMs ?? 0,
      receiptDelayMs: opts.receiptDelayMs ?? null,
    });
    this.watch = new ChannelWatch(store, audit, channel, scheduler, log, opts.alarmAfterMs ?? 120_000);
  }

  status(): SmsStatus {
    const counts = this.queue.counts();
    const h = this.channel.health?.() ?? { state: 'ok' as const };
    const { state, reason, ...detail } = h;
    return { channel: this.channel.name, state, ...(reason ? { reason } : {}), ...counts, ...detail };
  }

  start(): void {
    this.recover();
    this.watch.start();
    this.channel.start?.();
    if (this.channel.onDelivery) this.unsubscribe.push(this.channel.onDelivery((r) => this.delivery(r)));
    if (this.channel.onHealthChange) {
      this.unsubscribe.push(
        this.channel.onHealthChange(() => {
          if (this.channel.available?.() !== false) this.kick();
        }),
      );
    }
    const plannerEvery = this.opts.plannerEveryMs ?? 10_000;
    let sincePlanned = plannerEvery;
    const poll = this.opts.pollMs ?? 1000;
    this.stopTimer = this.scheduler.every(poll, () => {
      sincePlanned += poll;
      if (sincePlanned >= plannerEvery) {
        sincePlanned = 0;
        this.plan();
      }
      this.kick();
    });
    this.plan();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = null;
    for (const u of this.unsubscribe.splice(0)) u();
    this.watch.stop();
    await this.running;
    await this.channel.close?.();
  }

  /** Queues reminders and receipts that are due; returns how many. */
  plan(): number {
    try {
      const n = this.planner.sweep();
      if (n > 0) this.kick();
      return n;
    } catch (err) {
      this.log.error({ err }, 'SMS planning failed');
      return 0;
    }
  }

  /** Runs a pass soon; passes never overlap. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err) => this.log.error({ err }, 'SMS pass failed'))
      .finally(() => {
        this.running = null;
        if (this.again && this.stopTimer) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Sends everything due now and resolves when done (tests and shutdown await it). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.pass();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
  }

  private recover(): void {
    const { requeued, interrupted } = this.queue.recoverInterrupted(this.channel.idempotent === true);
    if (requeued > 0) this.log.warn({ count: requeued }, 'queued again: SMS claimed but not handed over before a restart');
    for (const row of interrupted) {
      const d = this.dossier.get(row.dossier_id);
      this.store.tx(() => {
        this.queue.update(row, 'failed', { error: 'interrupted after handover; it may have been sent, so it is not sent again' });
        this.audit.append({
          type: 'sms.failed',
          actor: 'system',
          compartment: d?.compartment,
          dossier: d?.code,
          data: { ...(d ? { to: maskPhone(d.phone) } : {}), channel: this.channel.name, kind: row.kind, attempts: row.attempts, reason: 'interrupted', maybeSent: true },
        });
      });
      this.log.warn({ dossier: d?.code, kind: row.kind }, 'SMS interrupted by a restart after handover; not sent again');
    }
  }

  private async pass(): Promise<void> {
    const deferred = new Set<number>();
    for (;;) {
      // A channel that knows it cannot send (modem gone, no network) holds the queue: no attempt is spent.
      if (this.channel.available?.() === false) return;
      const rows = this.queue.due(this.clock.now(), 20).filter((r) => !deferred.has(r.id));
      if (rows.length === 0) return;
      for (const row of rows) {
        if (!(await this.sendOne(row))) deferred.add(row.id);
      }
    }
  }

  private textFor(row: SmsRow, d: DossierForSms): string | null {
    const o: TextSettings = {
      encoding: this.opts.encoding,
      templates: this.opts.templates ?? NO_TEMPLATES,
      location: this.opts.location,
      office: this.opts.office,
      dossierTail: this.opts.dossierTail ?? DEFAULT_DOSSIER_TAIL,
    };
    const now = this.clock.now();
    const dossier = d.code;
    switch (row.kind) {
      case 'pickup_code': {
        if (d.status !== 'ready' || d.code_counter !== row.code_counter || d.expires_at === null) return null;
        // Code number 1 goes out at loading; every later one replaces a code the citizen may still hold.
        const code = this.codes.generate(d.otp_nonce, d.code_counter);
        return renderSms(d.code_counter > 1 ? 'resent' : 'code', { dossier, code, deadline: d.expires_at }, o);
      }
      case 'reminder':
        if (d.status !== 'ready' || d.expires_at === null || d.expires_at <= now) return null;
        return renderSms('reminder', { dossier, deadline: d.expires_at }, o);
      case 'receipt':
        if (d.status !== 'picked_up' || d.closed_at === null || d.door_opened_at === null) return null;
        return renderSms('receipt', { dossier, time: d.closed_at, compartment: d.compartment }, o);
      case 'code_locked':
        // A new code since (staff resend, phone correction) makes the notice wrong: drop it.
        if (d.status !== 'ready' || d.code_counter !== row.code_counter) return null;
        return renderSms('code_locked', { dossier }, o);
      case 'expired':
        if (d.status !== 'expired' || d.code_counter !== row.code_counter) return null;
        return renderSms('expired', { dossier }, o);
      default:
        return null;
    }
  }

  /** Wait before the next message to this phone may go, under the per-phone limit (0: now). */
  private rateWait(row: SmsRow, phone: string, now: number): number {
    const limit = this.opts.phoneLimit;
    const window = this.opts.phoneWindowMs;
    if (!limit || !window) return 0;
    const times = this.queue.handedTimes(phone, now - window, row.id);
    if (times.length < limit) return 0;
    return Math.max(1, times[times.length - limit] + window - now);
  }

  /** One attempt at one row; false when it was left for later without an attempt (rate limit). */
  private async sendOne(row: SmsRow): Promise<boolean> {
    const d = this.dossier.get(row.dossier_id);
    const text = d ? this.textFor(row, d) : null;
    if (!d || text === null) {
      this.store.tx(() => this.queue.update(row, 'superseded', {}));
      return true;
    }
    const to = maskPhone(d.phone);
    const now = this.clock.now();
    const wait = this.rateWait(row, d.phone, now);
    if (wait > 0) {
      this.store.tx(() => this.queue.defer(row.id, now + wait));
      this.log.info({ dossier: d.code, to, kind: row.kind, waitSec: Math.ceil(wait / 1000) }, 'SMS waits: per-phone rate limit');
      return false;
    }
    const attempt = row.attempts + 1;
    // Claim the row: whatever else runs, one message is handed to the channel once.
    const handedAtClaim = this.channel.reportsHandover ? null : now;
    if (!this.store.tx(() => this.queue.claim(row.id, attempt, handedAtClaim))) return true;
    const ctx = {
      id: `${this.opts.lockerId ?? 'locker'}-${row.id}`,
      ref: row.id & 0xff,
      handover: () => this.store.tx(() => this.queue.handover(row.id, this.clock.now())),
    };
    let result: SendResult | void;
    try {
      result = await this.channel.send({ to: d.phone, text }, ctx);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const last = attempt >= SMS_MAX_ATTEMPTS;
      this.store.tx(() => {
        if (last) {
          this.queue.update(row, 'failed', { attempts: attempt, error: reason });
          this.audit.append({
            type: 'sms.failed',
            actor: 'system',
            compartment: d.compartment,
            dossier: d.code,
            data: { to, channel: this.channel.name, kind: row.kind, attempts: attempt, reason },
          });
        } else {
          this.queue.update(row, 'queued', { attempts: attempt, error: reason, nextAt: this.clock.now() + SMS_BACKOFF_MS[attempt - 1] });
        }
      });
      this.log.warn({ dossier: d.code, to, kind: row.kind, attempt, reason, gaveUp: last }, 'SMS not sent');
      return true;
    }
    const refs = result?.refs ?? [];
    this.store.tx(() => {
      this.queue.update(row, 'sent', { attempts: attempt, sentAt: this.clock.now(), channel: this.channel.name, refs });
      this.audit.append({
        type: 'sms.sent',
        actor: 'system',
        compartment: d.compartment,
        dossier: d.code,
        data: { to, channel: this.channel.name, kind: row.kind, attempt, ...(refs.length > 1 ? { parts: refs.length } : {}) },
      });
    });
    this.log.info({ dossier: d.code, to, kind: row.kind }, 'SMS sent');
    return true;
  }

  /** A delivery report from the channel: the message (all its parts) arrived, or the network gave up. */
  delivery(r: DeliveryReport): void {
    if (r.outcome === 'pending') return;
    const now = this.clock.now();
    try {
      const row = this.queue.awaitingReport(r.to, r.ref, now - DELIVERY_REPORT_WINDOW_MS);
      if (!row) {
        this.log.debug({ to: maskPhone(r.to), ref: r.ref }, 'delivery report for no message we wait on');
        return;
      }
      const d = this.dossier.get(row.dossier_id)!;
      const data = { to: maskPhone(d.phone), channel: this.channel.name, kind: row.kind };
      this.store.tx(() => {
        if (r.outcome === 'delivered') {
          if (this.queue.partDelivered(row, r.ref, now)) {
            this.audit.append({ type: 'sms.delivered', actor: 'system', compartment: d.compartment, dossier: d.code, data });
          }
        } else {
          this.queue.undeliverable(row, `network could not deliver it (${r.detail})`);
          this.audit.append({
            type: 'sms.failed',
            actor: 'system',
            compartment: d.compartment,
            dossier: d.code,
            data: { ...data, attempts: row.attempts, reason: `undeliverable (${r.detail})` },
          });
        }
      });
    } catch (err) {
      this.log.error({ err }, 'delivery report not recorded');
    }
  }
}
