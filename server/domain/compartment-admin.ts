// Staff (or the central office) take a compartment out of service and back, and repair what an
// ordinary day leaves behind. Enabling also clears a fault: it is how staff say "repaired".
// Unlocking again finishes a withdraw (or a look inside) nobody opened in time; releasing says
// "checked: it is empty", and whatever was still booked there leaves the locker.
import type { Store } from '../db/store.ts';
import type { SmsQueue } from '../sms/queue.ts';
import type { AuditLog } from './audit-log.ts';
import type { Bookings } from './bookings.ts';
import { viewOf, type CompartmentView, type Compartments } from './compartments.ts';
import type { DoorControl } from './door-control.ts';
import { checkReason } from './dossier-repairs.ts';
import { DomainError, notFound } from './errors.ts';
import { INSIDE, transition, type DossierStatus } from './lifecycle.ts';
import type { Clock } from './ports.ts';

export class CompartmentAdmin {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly compartments: Compartments,
    private readonly doors: DoorControl,
    private readonly bookings: Bookings,
    private readonly sms: SmsQueue,
    private readonly clock: Clock,
  ) {}

  disable(actor: string, number: number, reason?: string): CompartmentView {
    return this.store.tx(() => {
      const row = this.compartments.row(number);
      if (!row) throw notFound(`compartment ${number}`);
      if (!row.disabled) {
        this.store.db.prepare('UPDATE compartments SET disabled = 1 WHERE number = ?').run(number);
        this.audit.append({
          type: 'compartment.disabled',
          actor,
          compartment: number,
          dossier: row.dossier_code ?? undefined,
          data: reason ? { reason } : undefined,
        });
      }
      return viewOf(this.compartments.row(number)!);
    });
  }

  enable(actor: string, number: number): CompartmentView {
    return this.store.tx(() => {
      const row = this.compartments.row(number);
      if (!row) throw notFound(`compartment ${number}`);
      if (row.disabled || row.fault) {
        this.store.db.prepare('UPDATE compartments SET disabled = 0, fault = NULL WHERE number = ?').run(number);
        this.audit.append({
          type: 'compartment.enabled',
          actor,
          compartment: number,
          dossier: row.dossier_code ?? undefined,
          data: row.fault ? { clearedFault: row.fault } : undefined,
        });
      }
      return viewOf(this.compartments.row(number)!);
    });
  }

  /** Unlocks the door once more, with the reason staff gave. A disabled compartment stays shut. */
  async unlock(actor: string, number: number, why: string): Promise<CompartmentView> {
    const reason = checkReason(why);
    const dossier = this.store.tx(() => {
      const row = this.compartments.row(number);
      if (!row) throw notFound(`compartment ${number}`);
      if (row.disabled) throw new DomainError(409, 'invalid_state', `Compartment ${number} is disabled: enable it first.`);
      this.doors.authorise(number, actor, 'staff', row.dossier_code ?? undefined, reason);
      return row.dossier_code ?? undefined;
    });
    await this.doors.pulse(number, actor, dossier);
    return viewOf(this.compartments.row(number)!);
  }

  /**
   * Staff checked the compartment and it is empty: the booking ends. A dossier still counted as
   * inside is withdrawn (its code stops working); a collected or withdrawn one has left already.
   * A fault is cleared with it: someone has just looked at the door.
   */
  release(actor: string, number: number, why: string): CompartmentView {
    const reason = checkReason(why);
    return this.store.tx(() => {
      const row = this.compartments.row(number);
      if (!row) throw notFound(`compartment ${number}`);
      if (row.door === 'open') throw new DomainError(409, 'door_open', `Shut door ${number} before releasing it.`);
      const booked = this.bookings.bookedDossier(number);
      const from = booked?.status;
      if (booked && INSIDE.has(booked.status)) {
        const now = this.clock.now();
        this.store.db
          .prepare('UPDATE dossiers SET status = ?, updated_at = ?, closed_at = ?, code_hash = NULL WHERE id = ?')
          .run(transition(booked.status as DossierStatus, 'release', booked.code), now, now, booked.id);
        this.sms.cancelFor(booked.id);
        this.audit.append({ type: 'dossier.withdrawn', actor, compartment: number, dossier: booked.code, data: { from: booked.status, reason, by: 'release' } });
      }
      this.bookings.release(number);
      if (row.fault) this.store.db.prepare('UPDATE compartments SET fault = NULL WHERE number = ?').run(number);
      this.audit.append({
        type: 'compartment.released',
        actor,
        compartment: number,
        dossier: booked?.code,
        data: { reason, ...(from ? { from } : {}), ...(row.fault ? { clearedFault: row.fault } : {}) },
      });
      return viewOf(this.compartments.row(number)!);
    });
  }
}
