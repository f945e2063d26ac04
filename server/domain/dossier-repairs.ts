// What staff fix on a dossier that is still in the locker, each audited with the clerk and a reason:
//   correctPhone  a mistyped number: the old code stops, a new one goes to the new number
//   extend        a later deadline for a ready dossier, or a second chance (new deadline, new code)
//                 for an expired one
//   revealPhone   the full number, when the clerk has to call the citizen (every reveal is audited)
//   findByPhone   the citizen at the counter gives a number, not a dossier code
// Events carry masked phones only; the full number leaves the locker only in revealPhone's answer.
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import { dossierView, type DossierRow, type DossierView } from './dossier-row.ts';
import { CODE_TRIES } from './dossier-rules.ts';
import { DomainError, notFound } from './errors.ts';
import { transition } from './lifecycle.ts';
import { maskPhone, normalizePhone } from './phone.ts';
import type { Clock } from './ports.ts';

export const REASON_MAX = 200;
export const EXTEND_MAX_DAYS = 60;
export const EXTEND_MIN_DAYS = 0.01;
const DAY_MS = 86_400_000;
const FIND_LIMIT = 50;

export interface DossierRepairsDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  /** DossierService.issueCode: a new code `counter` with `failLimit`, its SMS queued. Inside a transaction. */
  issueCode: (row: DossierRow, counter: number, failLimit: number, now: number) => void;
  onSmsQueued: () => void;
}

export type NewDeadline = { days: number; until?: undefined } | { until: string; days?: undefined };

const LIVE = `status IN ('loading','ready','expired')`;

export class DossierRepairs {
  private readonly live;
  private readonly latest;
  private readonly byPhone;

  constructor(private readonly d: DossierRepairsDeps) {
    const db = d.store.db;
    // Codes are one dossier whatever their case.
    this.live = db.prepare<[string], DossierRow>(`SELECT * FROM dossiers WHERE code = ? COLLATE NOCASE AND ${LIVE} ORDER BY id DESC LIMIT 1`);
    this.latest = db.prepare<[string], DossierRow>('SELECT * FROM dossiers WHERE code = ? COLLATE NOCASE ORDER BY id DESC LIMIT 1');
    this.byPhone = db.prepare<[string, number], DossierRow>('SELECT * FROM dossiers WHERE phone = ? ORDER BY id DESC LIMIT ?');
  }

  /** The dossier still in the locker under `code`; 409 when it has left, 404 when there is none. */
  private liveRow(code: string): DossierRow {
    const row = this.live.get(code);
    if (row) return row;
    const old = this.latest.get(code);
    if (old) throw new DomainError(409, 'invalid_state', `Dossier ${code} is ${old.status}; it is no longer in the locker.`);
    throw notFound(`dossier ${code}`);
  }

  correctPhone(actor: string, code: string, phoneInput: string, reason: string): DossierView {
    const phone = normalizePhone(phoneInput);
    if (!phone) throw new DomainError(400, 'invalid_phone', 'The phone number must be a Vietnamese mobile number: 0xxxxxxxxx or +84xxxxxxxxx.');
    const cleanReason = checkReason(reason);
    let queued = false;
    const view = this.d.store.tx(() => {
      const row = this.liveRow(code);
      transition(row.status, 'correct_phone', row.code);
      if (row.phone === phone) throw new DomainError(400, 'same_phone', `Dossier ${row.code} already has this phone number.`);
      const now = this.d.clock.now();
      this.d.store.db.prepare('UPDATE dossiers SET phone = ?, updated_at = ? WHERE id = ?').run(phone, now, row.id);
      // A ready dossier's code was sent to the wrong number: it stops, and a new one, with a fresh
      // try budget, goes to the right one. A loading dossier gets its first code at confirm; an expired
      // one gets a new code only when it is given a new deadline.
      const newCode = row.status === 'ready';
      if (newCode) {
        this.d.issueCode({ ...row, phone }, row.code_counter + 1, row.failures + CODE_TRIES, now);
        queued = true;
      }
      this.d.audit.append({
        type: 'dossier.phone_corrected',
        actor,
        compartment: row.compartment,
        dossier: row.code,
        data: { from: maskPhone(row.phone), to: maskPhone(phone), newCode, reason: cleanReason },
      });
      return dossierView(this.live.get(row.code)!);
    });
    if (queued) this.d.onSmsQueued();
    return view;
  }

  extend(actor: string, code: string, deadline: Partial<{ days: number; until: string }>, reason: string): DossierView {
    const cleanReason = checkReason(reason);
    const now = this.d.clock.now();
    const expiresAt = newDeadline(deadline, now);
    let queued = false;
    const view = this.d.store.tx(() => {
      const row = this.liveRow(code);
      if (row.status === 'expired') {
        transition(row.status, 'revive', row.code);
        this.d.store.db.prepare(`UPDATE dossiers SET status = 'ready', expires_at = ?, updated_at = ? WHERE id = ?`).run(expiresAt, now, row.id);
        this.d.issueCode({ ...row, status: 'ready', expires_at: expiresAt }, row.code_counter + 1, row.failures + CODE_TRIES, now);
        queued = true;
      } else {
        transition(row.status, 'extend', row.code);
        this.d.store.db.prepare('UPDATE dossiers SET expires_at = ?, updated_at = ? WHERE id = ?').run(expiresAt, now, row.id);
      }
      this.d.audit.append({
        type: row.status === 'expired' ? 'dossier.revived' : 'dossier.extended',
        actor,
        compartment: row.compartment,
        dossier: row.code,
        data: {
          from: row.status,
          previousExpiresAt: row.expires_at === null ? null : new Date(row.expires_at).toISOString(),
          expiresAt: new Date(expiresAt).toISOString(),
          newCode: row.status === 'expired',
          reason: cleanReason,
        },
      });
      return dossierView(this.live.get(row.code)!);
    });
    if (queued) this.d.onSmsQueued();
    return view;
  }

  revealPhone(actor: string, code: string, reason: string): { code: string; phone: string } {
    const cleanReason = checkReason(reason);
    return this.d.store.tx(() => {
      const row = this.latest.get(code);
      if (!row) throw notFound(`dossier ${code}`);
      // Retention erased it: nothing to reveal, and nothing to audit as revealed.
      if (row.phone === '') throw new DomainError(409, 'phone_erased', `Dossier ${row.code} was closed long ago; its phone number has been erased.`);
      this.d.audit.append({ type: 'dossier.phone_revealed', actor, compartment: row.compartment, dossier: row.code, data: { reason: cleanReason } });
      return { code: row.code, phone: row.phone };
    });
  }

  findByPhone(actor: string, phoneInput: string, reason?: string): DossierView[] {
    const phone = normalizePhone(phoneInput);
    if (!phone) throw new DomainError(400, 'invalid_phone', 'The phone number must be a Vietnamese mobile number: 0xxxxxxxxx or +84xxxxxxxxx.');
    const cleanReason = reason === undefined ? undefined : checkReason(reason);
    return this.d.store.tx(() => {
      const rows = this.byPhone.all(phone, FIND_LIMIT);
      this.d.audit.append({
        type: 'dossier.lookup',
        actor,
        data: { by: 'phone', phone: maskPhone(phone), found: rows.length, ...(cleanReason ? { reason: cleanReason } : {}) },
      });
      return rows.map(dossierView);
    });
  }
}

export function checkReason(reason: string): string {
  const r = typeof reason === 'string' ? reason.trim() : '';
  if (r.length < 1 || r.length > REASON_MAX) throw new DomainError(400, 'invalid_reason', `Give a reason of 1-${REASON_MAX} characters.`);
  return r;
}

/** The new deadline in ms: `days` from now, or `until` (an ISO time), within 0.01 to 60 days from now. */
export function newDeadline(d: Partial<{ days: number; until: string }>, now: number): number {
  const hasDays = d.days !== undefined;
  const hasUntil = d.until !== undefined;
  if (hasDays === hasUntil) throw new DomainError(400, 'invalid_deadline', 'Give either days (0.01-60) or until (an ISO time), not both.');
  const at = hasDays ? now + Math.round(d.days! * DAY_MS) : Date.parse(d.until!);
  if (!Number.isFinite(at)) throw new DomainError(400, 'invalid_deadline', 'until must be an ISO time, e.g. 2026-12-24T17:00:00+07:00.');
  if (at < now + EXTEND_MIN_DAYS * DAY_MS - 1 || at > now + EXTEND_MAX_DAYS * DAY_MS + 1) {
    throw new DomainError(400, 'invalid_deadline', `The new deadline must be between ${EXTEND_MIN_DAYS * 24 * 60} minutes and ${EXTEND_MAX_DAYS} days from now.`);
  }
  return at;
}
