// Staff (or the central office) take a compartment out of service and back. Enabling also
// clears a fault: it is how staff say "repaired".
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import { viewOf, type CompartmentView, type Compartments } from './compartments.ts';
import { notFound } from './errors.ts';

export class CompartmentAdmin {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly compartments: Compartments,
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
}
