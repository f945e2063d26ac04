// The persisted SMS queue. A row names the dossier, the kind and the code counter, never the text:
// the code is re-derived at send time, so the database never holds a pickup code.
//
// Row states: queued -> sending (claimed; nothing has left the locker) -> handed (given to the gateway
// or written at the modem's prompt; the outcome is not known yet) -> sent | delivered | failed,
// or back to queued for a retry; superseded when it no longer makes sense (newer code, collected...).
import type { Store } from '../db/store.ts';
import type { SmsKind } from './templates.ts';

export interface SmsRow {
  id: number;
  dossier_id: number;
  kind: string;
  code_counter: number;
  status: string;
  attempts: number;
  next_attempt_at: number;
  handed_at?: number | null;
  channel_refs?: string | null;
}

export interface SmsCounts {
  queued: number;
  failed: number;
  sent: number;
  delivered: number;
}

/** Only the pickup code's message is shown on the dossier (`sms`); reminders and receipts are audited. */
const TRACKED_ON_DOSSIER = 'pickup_code';

export class SmsQueue {
  private readonly insert;
  private readonly supersedeKind;
  private readonly supersedeAll;
  private readonly dueRows;
  private readonly setStatus;
  private readonly setDossierSms;
  private readonly claimRow;
  private readonly handRow;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.insert = db.prepare(
      `INSERT INTO sms_queue (dossier_id, kind, code_counter, status, next_attempt_at, created_at) VALUES (?, ?, ?, 'queued', ?, ?)`,
    );
    this.supersedeKind = db.prepare(`UPDATE sms_queue SET status = 'superseded' WHERE dossier_id = ? AND kind = ? AND status IN ('queued','sending')`);
    this.supersedeAll = db.prepare(`UPDATE sms_queue SET status = 'superseded' WHERE dossier_id = ? AND status IN ('queued','sending')`);
    this.dueRows = db.prepare<[number, number], SmsRow>(
      `SELECT * FROM sms_queue WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
    );
    this.setStatus = db.prepare(
      'UPDATE sms_queue SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ?, channel = COALESCE(?, channel), channel_refs = ? WHERE id = ?',
    );
    this.setDossierSms = db.prepare('UPDATE dossiers SET sms_status = ? WHERE id = ?');
    this.claimRow = db.prepare(
      `UPDATE sms_queue SET status = ?, attempts = ?, handed_at = COALESCE(?, handed_at) WHERE id = ? AND status = 'queued'`,
    );
    this.handRow = db.prepare(`UPDATE sms_queue SET status = 'handed', handed_at = ? WHERE id = ? AND status = 'sending'`);
  }

  /**
   * Inside a transaction. A newer message of the same kind makes an unsent older one pointless
   * (a new code replaces the old); other kinds stay (a reminder does not cancel a code).
   */
  enqueue(dossierId: number, kind: SmsKind | string, codeCounter: number, now: number, at = now): void {
    this.supersedeKind.run(dossierId, kind);
    this.insert.run(dossierId, kind, codeCounter, at, now);
    if (kind === TRACKED_ON_DOSSIER) this.setDossierSms.run('queued', dossierId);
  }

  /**
   * Claims a row for one attempt. `handedAt` set: the channel cannot tell when the message leaves,
   * so it counts as handed over from the start.
   */
  claim(id: number, attempt: number, handedAt: number | null = null): boolean {
    return this.claimRow.run(handedAt === null ? 'sending' : 'handed', attempt, handedAt, id).changes === 1;
  }

  /** The point of no return: from here a crash leaves the row `handed`, and it is not sent again. */
  handover(id: number, now: number): void {
    this.handRow.run(now, id);
  }

  /** Pickup, withdrawal, expiry, cancellation: nothing queued for the dossier makes sense any more. */
  cancelFor(dossierId: number): void {
    this.supersedeAll.run(dossierId);
  }

  due(now: number, limit: number): SmsRow[] {
    return this.dueRows.all(now, limit);
  }

  /** Leaves a row queued for later without spending an attempt (rate limit). */
  defer(id: number, until: number): void {
    this.store.db.prepare(`UPDATE sms_queue SET next_attempt_at = ? WHERE id = ? AND status = 'queued'`).run(until, id);
  }

  update(
    row: SmsRow,
    status: string,
    fields: { attempts?: number; nextAt?: number; error?: string | null; sentAt?: number | null; channel?: string; refs?: string[] },
  ): void {
    const refs = fields.refs && fields.refs.length > 0 ? `,${fields.refs.join(',')},` : null;
    this.setStatus.run(
      status,
      fields.attempts ?? row.attempts,
      fields.nextAt ?? row.next_attempt_at,
      fields.error ?? null,
      fields.sentAt ?? null,
      fields.channel ?? null,
      refs,
      row.id,
    );
    if (row.kind === TRACKED_ON_DOSSIER && ['sent', 'delivered', 'failed', 'queued'].includes(status)) this.setDossierSms.run(status, row.dossier_id);
  }

  /**
   * After a restart. `sending` rows never left the locker: queued again. `handed` rows may have gone
   * out: returned to the caller (which fails and audits them) unless the channel deduplicates, in
   * which case they are queued again too.
   */
  recoverInterrupted(idempotentChannel: boolean): { requeued: number; interrupted: SmsRow[] } {
    const db = this.store.db;
    const requeued = db.prepare(`UPDATE sms_queue SET status = 'queued' WHERE status = 'sending'`).run().changes;
    if (idempotentChannel) {
      const n = db.prepare(`UPDATE sms_queue SET status = 'queued' WHERE status = 'handed'`).run().changes;
      return { requeued: requeued + n, interrupted: [] };
    }
    return { requeued, interrupted: db.prepare<[], SmsRow>(`SELECT * FROM sms_queue WHERE status = 'handed' ORDER BY id`).all() };
  }

  /** When each message to `phone` was handed over since `since` (oldest first), this row excluded. */
  handedTimes(phone: string, since: number, exceptId: number): number[] {
    return this.store.db
      .prepare<[number, string, number], { handed_at: number }>(
        `SELECT q.handed_at FROM sms_queue q JOIN dossiers d ON d.id = q.dossier_id
         WHERE q.handed_at > ? AND d.phone = ? AND q.id != ? ORDER BY q.handed_at`,
      )
      .all(since, phone, exceptId)
      .map((r) => r.handed_at);
  }

  /** The latest sent message to `phone` (since `since`) still waiting for a report on `ref`. */
  awaitingReport(phone: string, ref: string, since: number): SmsRow | null {
    return (
      this.store.db
        .prepare<[number, string, string], SmsRow>(
          `SELECT q.* FROM sms_queue q JOIN dossiers d ON d.id = q.dossier_id
           WHERE q.channel_refs IS NOT NULL AND q.sent_at >= ? AND q.status = 'sent' AND d.phone = ? AND q.channel_refs LIKE ?
           ORDER BY q.sent_at DESC, q.id DESC LIMIT 1`,
        )
        .get(since, phone, `%,${ref},%`) ?? null
    );
  }

  /** One part reported delivered; true when it was the last one awaited. */
  partDelivered(row: SmsRow, ref: string, now: number): boolean {
    const rest = (row.channel_refs ?? '').split(',').filter((r) => r !== '' && r !== ref);
    if (rest.length > 0) {
      this.store.db.prepare('UPDATE sms_queue SET channel_refs = ? WHERE id = ?').run(`,${rest.join(',')},`, row.id);
      return false;
    }
    this.store.db.prepare(`UPDATE sms_queue SET status = 'delivered', delivered_at = ?, channel_refs = NULL WHERE id = ?`).run(now, row.id);
    if (row.kind === TRACKED_ON_DOSSIER) this.setDossierSms.run('delivered', row.dossier_id);
    return true;
  }

  undeliverable(row: SmsRow, reason: string): void {
    this.store.db.prepare(`UPDATE sms_queue SET status = 'failed', last_error = ?, channel_refs = NULL WHERE id = ?`).run(reason, row.id);
    if (row.kind === TRACKED_ON_DOSSIER) this.setDossierSms.run('failed', row.dossier_id);
  }

  hasKind(dossierId: number, kind: string): boolean {
    return this.store.db.prepare('SELECT 1 FROM sms_queue WHERE dossier_id = ? AND kind = ? LIMIT 1').get(dossierId, kind) !== undefined;
  }

  counts(): SmsCounts {
    const r = this.store.db
      .prepare<[], SmsCounts>(
        `SELECT COALESCE(SUM(status IN ('queued','sending','handed')), 0) AS queued, COALESCE(SUM(status = 'failed'), 0) AS failed,
                COALESCE(SUM(status = 'sent'), 0) AS sent, COALESCE(SUM(status = 'delivered'), 0) AS delivered FROM sms_queue`,
      )
      .get();
    return r ?? { queued: 0, failed: 0, sent: 0, delivered: 0 };
  }
}
