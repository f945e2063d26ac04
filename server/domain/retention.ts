// Personal data is kept only as long as it serves: a configurable time after a dossier is closed
// (collected, withdrawn or cancelled, and out of its compartment), its phone number, code hash and
// code nonce are erased. The audit trail is not touched (it never held a full phone number or a
// code), so it still verifies; the purge itself is audited.
import type { Logger } from 'pino';
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import type { Clock } from './ports.ts';

export const DEFAULT_RETENTION_DAYS = 30;
/** How often the locker looks for dossiers past retention. */
export const RETENTION_SWEEP_MS = 3600_000;
/** Dossiers purged per transaction: a first sweep over years of data never holds the write lock long. */
const BATCH = 500;
/** What a purged phone column holds: not a number, so it can match no kiosk entry and no SMS limit. */
export const PURGED = '';

export class Retention {
  private readonly due;
  private readonly purgeOne;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly retentionMs: number,
    private readonly log: Logger,
  ) {
    const db = store.db;
    this.due = db.prepare<[number, number], { id: number; code: string; compartment: number; closed_at: number }>(
      `SELECT d.id, d.code, d.compartment, d.closed_at FROM dossiers d
       WHERE d.status IN ('picked_up','withdrawn','cancelled') AND d.closed_at IS NOT NULL AND d.closed_at <= ?
         AND (d.phone <> '' OR d.code_hash IS NOT NULL OR d.otp_nonce <> '')
         AND NOT EXISTS (SELECT 1 FROM compartments c WHERE c.dossier_id = d.id)
       ORDER BY d.id LIMIT ?`,
    );
    this.purgeOne = db.prepare(`UPDATE dossiers SET phone = '', code_hash = NULL, otp_nonce = '' WHERE id = ?`);
  }

  /** Erases what is past retention; returns how many dossiers were purged. */
  purge(): number {
    const now = this.clock.now();
    const closedBefore = now - this.retentionMs;
    const retentionDays = Math.round((this.retentionMs / 86_400_000) * 1000) / 1000;
    let total = 0;
    for (;;) {
      const n = this.store.tx(() => {
        const rows = this.due.all(closedBefore, BATCH);
        if (rows.length === 0) return 0;
        for (const r of rows) {
          this.purgeOne.run(r.id);
          // One event per dossier, like every event about a dossier: it names the dossier and its compartment.
          this.audit.append({
            type: 'dossier.data_purged',
            actor: 'system',
            compartment: r.compartment,
            dossier: r.code,
            data: { closedAt: new Date(r.closed_at).toISOString(), retentionDays, fields: ['phone', 'codeHash', 'codeNonce'] },
          });
        }
        return rows.length;
      });
      total += n;
      if (n < BATCH) break;
    }
    if (total > 0) {
      // Old page images in the WAL still hold what was erased: checkpoint and truncate it (best effort:
      // a reader in the middle of something only delays this to the next sweep).
      try {
        this.store.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch (err) {
        this.log.warn({ err }, 'could not truncate the WAL after a purge');
      }
      this.log.info({ count: total }, 'personal data purged from closed dossiers');
    }
    return total;
  }
}
