// What staff do with dossiers: register and load, confirm, withdraw, resend; expiry and the
// "left in loading" alarm. Status changes follow the lifecycle table (lifecycle.ts); a booking
// ends only by its rules (Bookings). Codes are matched whatever their case.
import { randomBytes } from 'node:crypto';
import type { Store } from '../db/store.ts';
import type { Size } from '../../locker-map/schema.ts';
import type { SmsQueue } from '../sms/queue.ts';
import type { AuditLog } from './audit-log.ts';
import type { PickupCodes } from './codes.ts';
import type { Compartments } from './compartments.ts';
import { doorFacts, type Bookings } from './bookings.ts';
import type { DoorControl } from './door-control.ts';
import { dossierView, type DossierRow, type DossierView } from './dossier-row.ts';
import { CODE_TRIES, DOSSIER_CODE_PATTERN } from './dossier-rules.ts';
import { DomainError, notFound } from './errors.ts';
import { CONFIRMED_BY_DOOR, LIVE, canTransition, confirmRefusal, confirmRepeated, releaseAtOnce, transition } from './lifecycle.ts';
import { maskPhone, normalizePhone } from './phone.ts';
import type { Clock } from './ports.ts';

const CODE_RE = new RegExp(DOSSIER_CODE_PATTERN);

export interface DossierServiceDeps {
  store: Store;
  audit: AuditLog;
  compartments: Compartments;
  doors: DoorControl;
  bookings: Bookings;
  codes: PickupCodes;
  sms: SmsQueue;
  clock: Clock;
  pickupWindowMs: number;
  /** A dossier in `loading` this long raises `dossier.loading_stale` (LOCKER_LOADING_ALARM_MIN). */
  loadingAlarmMs: number;
  /** LOCKER_AUTO_CONFIRM: the door's closing after the loading unlock confirms (DoorSupervisor); said in the register answer. */
  autoConfirm?: boolean;
  onSmsQueued: () => void;
  /** Inside the expiry transaction, once per dossier expired (the citizen is told by SMS). */
  onExpired?: (row: DossierRow, now: number) => void;
}

export class DossierService {
  private readonly byCode;
  private readonly bookedByCode;
  private readonly liveByCode;
  private readonly insert;
  private readonly setStatus;
  private readonly bookCompartment;

  constructor(private readonly d: DossierServiceDeps) {
    const db = d.store.db;
    this.byCode = db.prepare<[string], DossierRow>('SELECT * FROM dossiers WHERE code = ? COLLATE NOCASE ORDER BY id DESC LIMIT 1');
    this.liveByCode = db.prepare<[string], DossierRow>(
      `SELECT * FROM dossiers WHERE code = ? COLLATE NOCASE AND status IN ('loading','ready','expired') LIMIT 1`,
    );
    this.bookedByCode = db.prepare<[string], DossierRow>(
      `SELECT d.* FROM dossiers d JOIN compartments c ON c.dossier_id = d.id WHERE d.code = ? COLLATE NOCASE ORDER BY d.id DESC LIMIT 1`,
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
    const { compartment, compartmentSize } = this.d.store.tx(() => {
      // A collected dossier whose door has not opened yet still holds its code: its pickup may be undone.
      const live = this.liveByCode.get(input.code) ?? this.bookedByCode.get(input.code);
      if (live && (LIVE.has(live.status) || live.status === 'picked_up')) {
        throw new DomainError(409, 'dossier_exists', `Dossier ${live.code} is already in the locker.`);
      }
      const number = this.d.compartments.allocate(input.size);
      if (number === null) throw new DomainError(409, 'locker_full', `No free compartment of size ${input.size} or larger.`);
      const id = Number(this.insert.run(input.code, phone, input.size, number, actor, now, now, randomBytes(16).toString('hex')).lastInsertRowid);
      this.bookCompartment.run(id, number);
      const compartmentSize = this.d.compartments.row(number)!.size;
      this.d.audit.append({
        type: 'dossier.loading',
        actor,
        compartment: number,
        dossier: input.code,
        data: { phone: maskPhone(phone), size: input.size, compartmentSize },
      });
      this.d.doors.authorise(number, actor, 'loading', input.code);
      return { compartment: number, compartmentSize };
    });
    try {
      await this.d.doors.pulse(compartment, actor, input.code);
    } catch (err) {
      // The clerk cannot load a door that did not open: give the booking back.
      this.d.store.tx(() => {
        const row = this.liveByCode.get(input.code);
        if (!row || !canTransition(row.status, 'cancel')) return;
        this.setStatus.run(transition(row.status, 'cancel', row.code), this.d.clock.now(), this.d.clock.now(), row.id);
        this.d.bookings.release(compartment);
        this.d.audit.append({ type: 'dossier.cancelled', actor: 'system', compartment, dossier: input.code, data: { reason: 'door_fault' } });
      });
      throw err;
    }
    return { code: input.code, compartment, status: 'loading' as const, size: input.size, compartmentSize, autoConfirm: this.d.autoConfirm ?? false };
  }

  markLoaded(actor: string, code: string) {
    let queued = false;
    const result = this.d.store.tx(() => {
      const row = this.liveByCode.get(code);
      if (!row) throw notFound(`dossier ${code}`);
      // Its door's closing confirmed it already: the same answer, nothing sent twice.
      if (confirmRepeated(row.status, row.confirmed_by)) return { code: row.code, compartment: row.compartment, status: 'ready' as const };
      transition(row.status, 'confirm', row.code);
      const refusal = confirmRefusal(doorFacts(this.d.compartments.row(row.compartment)!));
      if (refusal === 'door_open') throw new DomainError(409, 'door_open', `Close door ${row.compartment} before confirming.`);
      if (refusal === 'door_not_opened') {
        throw new DomainError(409, 'door_not_opened', `Door ${row.compartment} has not been opened since it was unlocked: put the dossier in, shut the door, then confirm.`);
      }
      this.confirm(row, actor, actor, {});
      queued = true;
      return { code: row.code, compartment: row.compartment, status: 'ready' as const };
    });
    if (queued) this.d.onSmsQueued();
    return result;
  }

  /**
   * Auto-confirm, inside the door supervisor's transaction: the door of `row`, being loaded, opened
   * after its unlock and has just shut (lifecycle `confirmOnClose`). The code goes out as after a
   * clerk's confirm; the audit names the door's closing as what confirmed it and the clerk who
   * registered the dossier. The caller kicks the SMS queue once the transaction has committed.
   */
  confirmByDoor(dossierId: number, startup?: Record<string, unknown>): void {
    const row = this.d.store.db.prepare<[number], DossierRow>('SELECT * FROM dossiers WHERE id = ?').get(dossierId);
    if (!row) return;
    this.confirm(row, 'system', CONFIRMED_BY_DOOR, { confirmedBy: CONFIRMED_BY_DOOR, registeredBy: row.created_by, ...startup });
  }

  /** Kicks the SMS queue after a commit that queued a code (auto-confirm). */
  smsQueued(): void {
    this.d.onSmsQueued();
  }

  /** `loading` → `ready` by the lifecycle table: a code with its SMS, a deadline, `dossier.ready`. Inside a transaction. */
  private confirm(row: DossierRow, actor: string, confirmedBy: string, data: Record<string, unknown>): void {
    const status = transition(row.status, 'confirm', row.code);
    const now = this.d.clock.now();
    const expiresAt = now + this.d.pickupWindowMs;
    this.issueCode(row, 1, CODE_TRIES, now);
    this.d.store.db
      .prepare(`UPDATE dossiers SET status = ?, ready_at = ?, expires_at = ?, updated_at = ?, confirmed_by = ? WHERE id = ?`)
      .run(status, now, expiresAt, now, confirmedBy, row.id);
    this.d.audit.append({
      type: 'dossier.ready',
      actor,
      compartment: row.compartment,
      dossier: row.code,
      data: { expiresAt: new Date(expiresAt).toISOString(), ...data },
    });
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
      transition(row.status, 'reissue', row.code);
      const now = this.d.clock.now();
      this.issueCode(row, row.code_counter + 1, row.failures + CODE_TRIES, now);
      this.d.audit.append({ type: 'dossier.code_reissued', actor, compartment: row.compartment, dossier: row.code, data: { by: 'staff' } });
      return dossierView(this.liveByCode.get(row.code)!);
    });
    this.d.onSmsQueued();
    return view;
  }

  async withdraw(actor: string, code: string) {
    const step = this.d.store.tx(() => {
      // A cancelled dossier is no longer live, but its paper is still booked in its compartment.
      const live = this.liveByCode.get(code) ?? this.bookedByCode.get(code);
      if (!live) {
        if (this.byCode.get(code)) throw new DomainError(409, 'invalid_state', `Dossier ${code} is no longer in the locker.`);
        throw notFound(`dossier ${code}`);
      }
      const status = transition(live.status, 'withdraw', live.code);
      const now = this.d.clock.now();
      const comp = this.d.compartments.row(live.compartment)!;
      this.setStatus.run(status, now, now, live.id);
      this.d.sms.cancelFor(live.id);
      this.d.audit.append({ type: 'dossier.withdrawn', actor, compartment: live.compartment, dossier: live.code, data: { from: live.status } });
      // Withdrawn while loading with a door that never opened: nothing was put in, nothing to take out.
      const freed = comp.dossier_id === live.id && releaseAtOnce(live.status, status, doorFacts(comp));
      if (freed) {
        this.d.bookings.release(live.compartment);
        this.d.audit.append({ type: 'compartment.released', actor: 'system', compartment: live.compartment, dossier: live.code, data: { reason: 'never_loaded' } });
      }
      this.d.doors.authorise(live.compartment, actor, 'withdraw', live.code);
      return { row: live, freed };
    });
    await this.d.doors.pulse(step.row.compartment, actor, step.row.code);
    return { code: step.row.code, compartment: step.row.compartment, status: 'withdrawn' as const };
  }

  /** Central office or staff cancels a dossier: its code stops working; the paper stays until withdrawn. */
  cancel(actor: string, code: string, reason?: string) {
    return this.d.store.tx(() => {
      const row = this.liveByCode.get(code);
      if (!row) throw notFound(`dossier ${code}`);
      const now = this.d.clock.now();
      this.setStatus.run(transition(row.status, 'cancel', row.code), now, now, row.id);
      this.d.sms.cancelFor(row.id);
      this.d.audit.append({ type: 'dossier.cancelled', actor, compartment: row.compartment, dossier: row.code, data: { from: row.status, ...(reason ? { reason } : {}) } });
      return { code: row.code, compartment: row.compartment, status: 'cancelled' as const };
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
        this.d.store.db.prepare(`UPDATE dossiers SET status = ?, updated_at = ?, code_hash = NULL WHERE id = ?`).run(transition(row.status, 'expire', row.code), now, row.id);
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

  /**
   * Raises `dossier.loading_stale` once for each dossier left in `loading` longer than the alarm
   * time (a confirmation forgotten at closing: the citizen would get no code overnight). Returns how many.
   */
  alarmStaleLoading(): number {
    if (this.d.loadingAlarmMs <= 0) return 0;
    const now = this.d.clock.now();
    return this.d.store.tx(() => {
      const stale = this.d.store.db
        .prepare<[number], DossierRow>(`SELECT * FROM dossiers WHERE status = 'loading' AND created_at <= ? AND loading_alarmed_at IS NULL ORDER BY id`)
        .all(now - this.d.loadingAlarmMs);
      for (const row of stale) {
        this.d.store.db.prepare('UPDATE dossiers SET loading_alarmed_at = ? WHERE id = ?').run(now, row.id);
        this.d.audit.append({
          type: 'dossier.loading_stale',
          actor: 'system',
          compartment: row.compartment,
          dossier: row.code,
          data: { since: new Date(row.created_at).toISOString(), minutes: Math.round((now - row.created_at) / 60_000) },
        });
      }
      return stale.length;
    });
  }
}
