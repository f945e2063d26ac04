// Notices that tell a citizen what happened when the kiosk will not say: a code that locked after
// too many wrong tries, and a dossier whose deadline passed, both answer `invalid_code` at the kiosk
// (no oracle for someone guessing), so the rightful citizen learns it by SMS, with whom to call.
// Queued in the transaction that locks or expires, once per lock (per issued code) and once per
// expiry (a revived dossier has a new code, so it can expire, and be told, again).
import type { Store } from '../db/store.ts';
import type { SmsQueue } from '../sms/queue.ts';
import type { DossierRow } from './dossier-row.ts';

export class CitizenNotices {
  private readonly queuedFor;

  constructor(
    private readonly store: Store,
    private readonly queue: SmsQueue,
  ) {
    this.queuedFor = store.db.prepare<[number, string, number], { one: number }>(
      'SELECT 1 AS one FROM sms_queue WHERE dossier_id = ? AND kind = ? AND code_counter = ? LIMIT 1',
    );
  }

  /** Inside the transaction that counted the failure which used up the code's tries. */
  codeLocked(row: Pick<DossierRow, 'id' | 'code_counter'>, now: number): boolean {
    return this.once(row, 'code_locked', now);
  }

  /** Inside the transaction that expired the dossier. */
  expired(row: Pick<DossierRow, 'id' | 'code_counter'>, now: number): boolean {
    return this.once(row, 'expired', now);
  }

  private once(row: Pick<DossierRow, 'id' | 'code_counter'>, kind: 'code_locked' | 'expired', now: number): boolean {
    return this.store.tx(() => {
      if (this.queuedFor.get(row.id, kind, row.code_counter)) return false;
      this.queue.enqueue(row.id, kind, row.code_counter, now);
      return true;
    });
  }
}
