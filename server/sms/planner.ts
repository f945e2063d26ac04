// Decides when reminders and receipts are due and queues them; the dispatcher sends them.
// Both are found by looking at the dossiers, not by listening for events, so a crash or a
// restart loses none: whatever is due and not yet queued is queued on the next sweep.
//   reminder  `reminderBeforeMs` before the deadline of a ready dossier, once; skipped when the whole
//             pickup window is shorter than that, and when less than half an hour (or half the lead)
//             is left by the time the locker notices (it was off): a last-minute nudge helps nobody.
//   receipt   `receiptDelayMs` after a pickup, once, and only once its door has opened: a pickup whose
//             door never opened is undone, and nobody is told they collected what is still inside. The
//             dispatcher checks the dossier again at send time.
import type { Logger } from 'pino';
import type { Store } from '../db/store.ts';
import type { Clock } from '../domain/ports.ts';
import type { SmsQueue } from './queue.ts';

/** Pickups older than this get no receipt (a locker that was off for a day does not send old news). */
export const RECEIPT_LOOKBACK_MS = 6 * 3600_000;
const REMINDER_MIN_LEFT_MS = 30 * 60_000;

export interface PlannerOptions {
  reminderBeforeMs: number;
  receiptDelayMs: number | null;
}

export class SmsPlanner {
  private readonly dueReminders;
  private readonly dueReceipts;

  constructor(
    private readonly store: Store,
    private readonly queue: SmsQueue,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: PlannerOptions,
  ) {
    const db = store.db;
    this.dueReminders = db.prepare<{ now: number; lead: number; minLeft: number }, { id: number; code_counter: number }>(
      `SELECT d.id, d.code_counter FROM dossiers d
       WHERE d.status = 'ready' AND d.expires_at IS NOT NULL
         AND d.expires_at - @lead <= @now AND d.expires_at - @now >= @minLeft
         AND d.ready_at <= d.expires_at - @lead
         AND NOT EXISTS (SELECT 1 FROM sms_queue q WHERE q.dossier_id = d.id AND q.kind = 'reminder')`,
    );
    this.dueReceipts = db.prepare<{ until: number; from: number }, { id: number; code_counter: number }>(
      `SELECT d.id, d.code_counter FROM dossiers d
       WHERE d.status = 'picked_up' AND d.closed_at IS NOT NULL AND d.closed_at <= @until AND d.closed_at >= @from
         AND d.door_opened_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM sms_queue q WHERE q.dossier_id = d.id AND q.kind = 'receipt')`,
    );
  }

  /** Queues what is due now; returns how many messages were queued. */
  sweep(): number {
    const now = this.clock.now();
    const lead = this.opts.reminderBeforeMs;
    const receiptDelay = this.opts.receiptDelayMs;
    // Read first, write only when something is due: most sweeps find nothing and take no write lock.
    const reminders = lead > 0 ? this.dueReminders.all({ now, lead, minLeft: Math.min(REMINDER_MIN_LEFT_MS, lead / 2) }) : [];
    const until = now - (receiptDelay ?? 0);
    const receipts = receiptDelay !== null ? this.dueReceipts.all({ until, from: until - RECEIPT_LOOKBACK_MS }) : [];
    if (reminders.length + receipts.length === 0) return 0;
    this.store.tx(() => {
      for (const d of reminders) this.queue.enqueue(d.id, 'reminder', d.code_counter, now);
      for (const d of receipts) this.queue.enqueue(d.id, 'receipt', d.code_counter, now);
    });
    this.log.info({ reminders: reminders.length, receipts: receipts.length }, 'reminders and receipts queued');
    return reminders.length + receipts.length;
  }
}
