// What staff do with dossiers: register and load, confirm, withdraw, resend; and expiry.
import { randomBytes } from 'node:crypto';
import type { Store } from '../db/store.ts';
import type { Size } from '../../locker-map/schema.ts';
import type { SmsQueue } from '../sms/queue.ts';
import type { AuditLog } from './audit-log.ts';
import type { PickupCodes } from './codes.ts';
import type { Compartments } from './compartments.ts';
import type { DoorControl } from './door-control.ts';
import { dossierView, type DossierRow, type DossierView } from './dossier-row.ts';
import { CODE_TRIES, DOSSIER_CODE_PATTERN } from './dossier-rules.ts';
import { DomainError, notFound } from './errors.ts';
import { maskPhone, normalizePhone } from './phone.ts';
import type { Clock } from './ports.ts';

const CODE_RE = new RegExp(DOSSIER_CODE_PATTERN);
const WITHDRAWABLE = new Set(['loading', 'ready', 'expired', 'cancelled']);

export interface DossierServiceDeps {
  store: Store;
  audit: AuditLog;
  compartments: Compartments;
  doors: DoorControl;
  codes: PickupCodes;
  sms: SmsQueue;
  clock: Clock;
  pickupWindowMs: number;
  onSmsQueued: () => void;
  /** Inside the expiry transaction, once per dossier expired (the citizen is told by SMS). */
  onExpired?: (row: DossierRow, now: number) => void;
}

export class DossierService {
  private readonly byCode;
  private readonly liveByCode;
  private readonly insert;
  private readonly setStatus;
  private readonly bookCompartment;

  constructor(private readonly d: DossierServiceDeps) {
    const db = d.store.db;
    this.byCode = db.prepare<[string], DossierRow>('SELECT * FROM dossiers WHERE code = ? ORDER BY id DESC LIMIT 1');
    this.liveByCode = db.prepare<[string], DossierRow>(
      `SELECT * FROM dossiers WHERE code = ? AND status IN ('loading','ready','expired') LIMIT 1`,
    );
    this.insert = db.prepare(
      `INSERT INTO dossiers (code, phone, size, compartment, status, created_by, created_at, updated_at, otp_nonce)
       VALUES (?, ?, ?, ?, 'loading', ?, ?, ?, ?)`,
    );
    this.setStatus = db.prepare('UPDATE dossiers SET status = ?, updated_at = ?, closed_at = ?, code_hash = NULL WHERE id = ?');
    this.bookCompartment = db.prepare('UPDATE compartments SET dossier_id = ? WHERE number = ?');
  }

  get(code: string): DossierView {
    const row = this.byCode.get(code);
    if (!row) throw notFound(`dossier ${code}`);
    return dossierView(row);
  }

  list(status?: string, limit = 200): DossierView[] {
    const db = this.d.store.db;
    const rows = status
      ? db.prepare<[string, number], DossierRow>('SELECT * FROM dossiers WHERE status = ? ORDER BY id DESC LIMIT ?').all(status, limit)
      : db.prepare<[number], DossierRow>('SELECT * FROM dossiers ORDER BY id DESC LIMIT ?').all(limit);
    return rows.map(dossierView);
  }

  async register(actor: string, input: { code: string; phone: string; size: Size }) {
    if (!CODE_RE.test(input.code)) throw new DomainError(400, 'invalid_code_format', 'A dossier code is 1-64 letters, digits, ".", "-" or "_".');
    const phone = normalizePhone(input.phone);
    if (!phone) throw new DomainError(400, 'invalid_phone', 'The phone number must be a Vietnamese mobile number: 0xxxxxxxxx or +84xxxxxxxxx.');
    const now = this.d.clock.now();
    const compartment = this.d.store.tx(() => {
      if (this.liveByCode.get(input.code)) throw new DomainError(409, 'dossier_exists', `Dossier ${input.code} is already in the locker.`);
      const number = this.d.compartments.allocate(input.size);
      if (number === null) throw new DomainError(409, 'locker_full', `No free compartment of size ${input.size} or larger.`);
      const id = Number(this.insert.run(input.code, phone, input.size, number, actor, now, now, randomBytes(16).toString('hex')).lastInsertRowid);
      this.bookCompartment.run(id, number);
      this.d.audit.append({
        type: 'dossier.loading',
        actor,
        compartment: number,
        dossier: input.code,
        data: { phone: maskPhone(phone), size: input.size, compartmentSize: this.d.compartments.row(number)!.size },
      });
      this.d.doors.authorise(number, actor, 'loading', input.code);
      return number;
    });
    try {
      await this.d.doors.pulse(compartment, actor, input.code);
    } catch (err) {
      // The clerk cannot load a door that did not open: give the booking back.
      this.d.store.tx(() => {
        const row = this.liveByCode.get(input.code);
        if (!row) return;
        this.setStatus.run('cancelled', this.d.clock.now(), this.d.clock.now(), row.id);
        this.bookCompartment.run(null, compartment);
        this.d.audit.append({ type: 'dossier.cancelled', actor: 'system', compartment, dossier: input.code, data: { reason: 'door_fault' } });
      });
      throw err;
    }
    return { code: input.code, compartment, status: 'loading' as const };
  }

  markLoaded(actor: string, code: string) {
    const result = this.d.store.tx(() => {
      const row = this.liveByCode.get(code);
      if (!row) throw notFound(`dossier ${code}`);
      if (row.status !== 'loading') throw new DomainError(409, 'invalid_state', `Dossier ${code} is ${row.status}, not loading.`);
      const comp = this.d.compartments.row(row.compartment)!;
      if (comp.door === 'open') throw new DomainError(409, 'door_open', `Close door ${row.compartment} before confirming.`);
      const now = this.d.clock.now();
      const expiresAt = now + this.d.pickupWindowMs;
      this.issueCode(row, 1, CODE_TRIES, now);
      this.d.store.db
        .prepare(`UPDATE dossiers SET status = 'ready', ready_at = ?, expires_at = ?, updated_at = ? WHERE id = ?`)
        .run(now, expiresAt, now, row.id);
      this.d.audit.append({
        type: 'dossier.ready',
        actor,
        compartment: row.compartment,
        dossier: code,
        data: { expiresAt: new Date(expiresAt).toISOString() },
      });
      return { code, compartment: row.compartment, status: 'ready' as const };
    });
    this.d.onSmsQueued();
    return result;
  }

  /** Issues code number `counter` and queues its SMS. Inside a transaction. */
  issueCode(row: DossierRow, counter: number, failLimit: number, now: number): void {
    const code = this.d.codes.generate(row.otp_nonce, counter);
    this.d.store.db
      .prepare('UPDATE dossiers SET code_counter = ?, code_hash = ?, code_fail_limit = ?, last_code_at = ?, updated_at = ? WHERE id = ?')
      .run(counter, this.d.codes.hash(row.id, row.phone, code), failLimit, now, now, row.id);
    this.d.sms.enqueue(row.id, 'pickup_code', counter, now);
  }

  /** Staff resend: a fresh code with a fresh try budget, beyond the citizen's limits. */
  resendByStaff(actor: string, code: string): DossierView {
    const view = this.d.store.tx(() => {
      const row = this.liveByCode.get(code);
      if (!row) throw notFound(`dossier ${code}`);
      if (row.status !== 'ready') throw new DomainError(409, 'invalid_state', `Dossier ${code} is ${row.status}; only a ready dossier has a code.`);
      const now = this.d.clock.now();
      this.issueCode(row, row.code_counter + 1, row.failures + CODE_TRIES, now);
      this.d.audit.append({ type: 'dossier.code_reissued', actor, compartment: row.compartment, dossier: code, data: { by: 'staff' } });
      return dossierView(this.liveByCode.get(code)!);
    });
    this.d.onSmsQueued();
    return view;
  }

  async withdraw(actor: string, code: string) {
    const row = this.d.store.tx(() => {
      const live =
        this.liveByCode.get(code) ??
        this.d.store.db
          .prepare<[string], DossierRow>(
            `SELECT d.* FROM dossiers d JOIN compartments c ON c.dossier_id = d.id WHERE d.code = ? AND d.status = 'cancelled'`,
          )
          .get(code);
      if (!live) {
        if (this.byCode.get(code)) throw new DomainError(409, 'invalid_state', `Dossier ${code} is no longer in the locker.`);
        throw notFound(`dossier ${code}`);
      }
      if (!WITHDRAWABLE.has(live.status)) throw new DomainError(409, 'invalid_state', `Dossier ${code} is ${live.status}.`);
      const now = this.d.clock.now();
      this.setStatus.run('withdrawn', now, now, live.id);
      this.d.sms.cancelFor(live.id);
      this.d.audit.append({ type: 'dossier.withdrawn', actor, compartment: live.compartment, dossier: code, data: { from: live.status } });
      this.d.doors.authorise(live.compartment, actor, 'withdraw', code);
      return live;
    });
    await this.d.doors.pulse(row.compartment, actor, code);
    return { code, compartment: row.compartment, status: 'withdrawn' as const };
  }

  /** Central office or staff cancels a dossier: its code stops working; the paper stays until withdrawn. */
  cancel(actor: string, code: string, reason?: string) {
    return this.d.store.tx(() => {
      const row = this.liveByCode.get(code);
      if (!row) throw notFound(`dossier ${code}`);
      const now = this.d.clock.now();
      this.setStatus.run('cancelled', now, now, row.id);
      this.d.sms.cancelFor(row.id);
      this.d.audit.append({ type: 'dossier.cancelled', actor, compartment: row.compartment, dossier: code, data: { from: row.status, ...(reason ? { reason } : {}) } });
      return { code, compartment: row.compartment, status: 'cancelled' as const };
    });
  }

  /** Moves every ready dossier past its deadline to `expired`. Returns how many. */
  expireDue(): number {
    const now = this.d.clock.now();
    return this.d.store.tx(() => {
      const due = this.d.store.db
        .prepare<[number], DossierRow>(`SELECT * FROM dossiers WHERE status = 'ready' AND expires_at <= ?`)
        .all(now);
      for (const row of due) {
        this.d.store.db.prepare(`UPDATE dossiers SET status = 'expired', updated_at = ?, code_hash = NULL WHERE id = ?`).run(now, row.id);
        this.d.sms.cancelFor(row.id);
        this.d.onExpired?.(row, now);
        this.d.audit.append({
          type: 'dossier.expired',
          actor: 'system',
          compartment: row.compartment,
          dossier: row.code,
          data: { expiresAt: new Date(row.expires_at!).toISOString() },
        });
      }
      return due.length;
    });
  }
}
