// Applies the lifecycle (lifecycle.ts) to the database: ends bookings, undoes pickups whose door
// never opened, and reconciles at start-up. Services and door handlers call these instead of
// writing `dossier_id` or a dossier's status back themselves, so every path that can strand a
// compartment goes through the same few rules.
import type { Logger } from 'pino';
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import type { PickupCodes } from './codes.ts';
import type { CompartmentRow, Compartments } from './compartments.ts';
import type { DossierRow } from './dossier-row.ts';
import { afterRestart, pickupUndone, transition, type DoorFacts, type DossierStatus } from './lifecycle.ts';
import type { Clock } from './ports.ts';

export function doorFacts(row: Pick<CompartmentRow, 'door' | 'opened_since_unlock'>): DoorFacts {
  return { door: row.door, openedSinceUnlock: row.opened_since_unlock === 1 };
}

export type RevertReason = 'pulse_failed' | 'jammed' | 'not_opened' | 'restart' | 'stopping' | 'board_lost';

export class Bookings {
  private readonly dossierById;
  private readonly freeCompartment;
  private readonly restore;
  private readonly openWindows;
  private readonly closeAllWindows;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly compartments: Compartments,
    private readonly codes: PickupCodes,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    const db = store.db;
    this.dossierById = db.prepare<[number], DossierRow>('SELECT * FROM dossiers WHERE id = ?');
    this.freeCompartment = db.prepare('UPDATE compartments SET dossier_id = NULL, unlocked_until = 0, unlocked_by = NULL WHERE number = ?');
    this.restore = db.prepare(
      `UPDATE dossiers SET status = ?, code_hash = ?, closed_at = NULL, door_opened_at = NULL, updated_at = ? WHERE id = ? AND status = 'picked_up'`,
    );
    this.openWindows = db.prepare<[number], { number: number }>('SELECT number FROM compartments WHERE unlocked_until >= ? ORDER BY number');
    this.closeAllWindows = db.prepare('UPDATE compartments SET unlocked_until = 0');
  }

  /** Inside a transaction: the compartment holds nothing any more. */
  release(number: number): void {
    this.freeCompartment.run(number);
  }

  /**
   * Undoes the pickup booked in `number` if its door never opened (joins the caller's transaction,
   * if any). The dossier is `ready` again with the same code (regenerated from its nonce and counter:
   * only its hash was ever stored), and `pickup.reverted` says why. Returns whether anything was undone.
   */
  revertPickup(number: number, reason: RevertReason): boolean {
    return this.store.tx(() => {
      const row = this.compartments.row(number);
      if (!row || row.dossier_id === null) return false;
      const dossier = this.dossierById.get(row.dossier_id);
      if (!dossier || !pickupUndone(dossier.status, doorFacts(row))) return false;
      const status = transition(dossier.status, 'revert', dossier.code);
      const code = this.codes.generate(dossier.otp_nonce, dossier.code_counter);
      this.restore.run(status, this.codes.hash(dossier.id, dossier.phone, code), this.clock.now(), dossier.id);
      this.audit.append({ type: 'pickup.reverted', actor: 'system', compartment: number, dossier: dossier.code, data: { reason } });
      this.log.warn({ compartment: number, reason }, 'pickup undone: the door never opened');
      return true;
    });
  }

  /** The dossier booked in `number`, if any. */
  bookedDossier(number: number): DossierRow | null {
    const row = this.compartments.row(number);
    return row?.dossier_id != null ? (this.dossierById.get(row.dossier_id) ?? null) : null;
  }

  /**
   * At start-up, after the door sensors were read: every unlock window ends (a door opened by hand
   * from now on needs a new unlock), then each booking is judged by what the database and the door
   * show. A pickup whose door never opened is undone; a departed dossier whose door opened and is shut
   * frees its compartment. A withdraw whose door never opened stays booked for a repair unlock.
   */
  reconcileAfterRestart(): { reverted: number; released: number; windowsClosed: number } {
    return this.store.tx(() => {
      let windowsClosed = 0;
      for (const w of this.openWindows.all(this.clock.now())) {
        windowsClosed++;
        this.audit.append({ type: 'door.unlock_ended', actor: 'system', compartment: w.number, dossier: this.bookedDossier(w.number)?.code, data: { reason: 'restart' } });
      }
      this.closeAllWindows.run();
      let reverted = 0;
      let released = 0;
      for (const row of this.compartments.rows()) {
        const status = (row.dossier_status ?? null) as DossierStatus | null;
        const action = afterRestart(status, doorFacts(row));
        if (action === 'revert_pickup') {
          // One booking that cannot be undone must not keep the whole locker from starting: it stays
          // booked, and staff finish it (unlock, release).
          try {
            if (this.revertPickup(row.number, 'restart')) reverted++;
          } catch (err) {
            this.log.error({ err, compartment: row.number }, 'pickup could not be undone at start-up');
          }
        }
        if (action === 'release') {
          this.release(row.number);
          this.audit.append({ type: 'compartment.released', actor: 'system', compartment: row.number, dossier: row.dossier_code ?? undefined, data: { reason: 'restart', from: status } });
          released++;
        }
      }
      return { reverted, released, windowsClosed };
    });
  }
}
