// The kiosk: a citizen's phone number and code open exactly one door, or nothing at all.
// Every wrong answer looks the same from outside; inside, failures are counted per dossier
// and kiosk-wide, in the database, so neither a resend nor a restart resets them.
import type { Logger } from 'pino';
import type { Store } from '../db/store.ts';
import type { SmsQueue } from '../sms/queue.ts';
import type { AuditLog } from './audit-log.ts';
import type { PickupCodes } from './codes.ts';
import { CODE_PATTERN } from './codes.ts';
import type { DoorControl } from './door-control.ts';
import type { DossierRow } from './dossier-row.ts';
import {
  CITIZEN_RESENDS,
  CODE_TRIES,
  LIFETIME_FAILURES,
  RESEND_MIN_INTERVAL_MS,
  kioskDelayMs,
} from './dossier-rules.ts';
import { DomainError } from './errors.ts';
import { transition } from './lifecycle.ts';
import { normalizePhone } from './phone.ts';
import type { Clock } from './ports.ts';

export const INVALID_CODE = () => new DomainError(401, 'invalid_code', 'The phone number or pickup code is not valid.');

export interface PickupStats {
  succeeded: number;
  failed: number;
  throttled: number;
}

export interface PickupServiceDeps {
  store: Store;
  audit: AuditLog;
  doors: DoorControl;
  codes: PickupCodes;
  sms: SmsQueue;
  clock: Clock;
  log: Logger;
  issueCode: (row: DossierRow, counter: number, failLimit: number, now: number) => void;
  onSmsQueued: () => void;
  /** Inside the transaction: this failure used up the code's tries (the citizen is told by SMS). */
  onCodeLocked?: (row: DossierRow, now: number) => void;
}

type Outcome =
  | { kind: 'ok'; row: DossierRow }
  | { kind: 'invalid' }
  | { kind: 'throttled'; retryAfterSec: number };

export class PickupService {
  readonly stats: PickupStats = { succeeded: 0, failed: 0, throttled: 0 };
  private readonly readyByPhone;
  private readonly throttleRow;
  private readonly setThrottle;
  private readonly countFailure;

  constructor(private readonly d: PickupServiceDeps) {
    const db = d.store.db;
    this.readyByPhone = db.prepare<[string], DossierRow>(`SELECT * FROM dossiers WHERE phone = ? AND status = 'ready' ORDER BY id`);
    this.throttleRow = db.prepare<[], { consecutive_failures: number; blocked_until: number }>(
      'SELECT consecutive_failures, blocked_until FROM kiosk_throttle WHERE id = 1',
    );
    this.setThrottle = db.prepare('UPDATE kiosk_throttle SET consecutive_failures = ?, blocked_until = ? WHERE id = 1');
    this.countFailure = db.prepare('UPDATE dossiers SET failures = failures + 1, updated_at = ? WHERE id = ?');
  }

  throttleState(): { consecutiveFailures: number; blockedUntil: number } {
    const t = this.throttleRow.get()!;
    return { consecutiveFailures: t.consecutive_failures, blockedUntil: t.blocked_until };
  }

  async pickup(phoneInput: string, codeInput: string): Promise<{ compartment: number }> {
    const outcome = this.d.store.tx((): Outcome => {
      const now = this.d.clock.now();
      const throttle = this.throttleRow.get()!;
      if (throttle.blocked_until > now) return { kind: 'throttled', retryAfterSec: Math.ceil((throttle.blocked_until - now) / 1000) };

      const phone = normalizePhone(phoneInput);
      const code = CODE_PATTERN.test(codeInput) ? codeInput : null;
      const candidates = phone ? this.readyByPhone.all(phone).filter((r) => r.expires_at !== null && r.expires_at > now) : [];
      let match: DossierRow | null = null;
      for (const row of candidates) {
        // Check every candidate, matched or not, so timing does not tell how many there are.
        const usable = row.code_hash !== null && row.failures < row.code_fail_limit;
        if (code && row.code_hash && this.d.codes.matches(row.code_hash, row.id, row.phone, code) && usable && !match) match = row;
      }
      if (match) {
        this.setThrottle.run(0, 0);
        this.d.store.db
          .prepare(`UPDATE dossiers SET status = ?, code_hash = NULL, closed_at = ?, door_opened_at = NULL, updated_at = ? WHERE id = ?`)
          .run(transition(match.status, 'pickup', match.code), now, now, match.id);
        this.d.sms.cancelFor(match.id);
        this.d.audit.append({ type: 'pickup.succeeded', actor: 'citizen', compartment: match.compartment, dossier: match.code });
        this.d.doors.authorise(match.compartment, 'citizen', 'pickup', match.code);
        return { kind: 'ok', row: match };
      }

      const consecutive = throttle.consecutive_failures + 1;
      const delay = kioskDelayMs(consecutive);
      this.setThrottle.run(consecutive, delay > 0 ? now + delay : 0);
      if (candidates.length === 0) {
        this.d.audit.append({ type: 'pickup.failed', actor: 'citizen', data: { reason: 'no_match', consecutive } });
      }
      for (const row of candidates) {
        this.countFailure.run(now, row.id);
        const failures = row.failures + 1;
        if (failures === row.code_fail_limit) this.d.onCodeLocked?.(row, now);
        this.d.audit.append({
          type: 'pickup.failed',
          actor: 'citizen',
          compartment: row.compartment,
          dossier: row.code,
          data: {
            reason: 'wrong_code',
            consecutive,
            failures,
            codeLocked: failures >= row.code_fail_limit,
            ...(failures >= LIFETIME_FAILURES ? { lifetimeCapReached: true } : {}),
          },
        });
      }
      if (delay > 0) {
        this.d.audit.append({ type: 'pickup.throttled', actor: 'system', data: { consecutive, retryAfterSec: Math.ceil(delay / 1000) } });
      }
      return { kind: 'invalid' };
    });

    if (outcome.kind === 'throttled') {
      this.stats.throttled++;
      throw new DomainError(429, 'throttled', `Too many wrong codes. Please wait ${outcome.retryAfterSec} seconds.`, {
        'retry-after': String(outcome.retryAfterSec),
      });
    }
    if (outcome.kind === 'invalid') {
      this.stats.failed++;
      throw INVALID_CODE();
    }
    const row = outcome.row;
    // A door that stays shut (pulse failed, jam, the service stopping) undoes the pickup inside
    // DoorControl: the dossier is still inside, so the citizen's code works again.
    await this.d.doors.pulse(row.compartment, 'citizen', row.code);
    this.stats.succeeded++;
    return { compartment: row.compartment };
  }

  /** Always silent to the caller: whether anything was sent must not reveal a dossier. */
  resend(phoneInput: string): void {
    const phone = normalizePhone(phoneInput);
    if (!phone) return;
    let queued = false;
    this.d.store.tx(() => {
      const now = this.d.clock.now();
      for (const row of this.readyByPhone.all(phone)) {
        if (row.expires_at === null || row.expires_at <= now) continue;
        if (row.resends >= CITIZEN_RESENDS) continue;
        if (row.last_code_at !== null && now - row.last_code_at < RESEND_MIN_INTERVAL_MS) continue;
        if (row.failures >= LIFETIME_FAILURES) continue;
        this.d.issueCode(row, row.code_counter + 1, Math.min(row.failures + CODE_TRIES, LIFETIME_FAILURES), now);
        this.d.store.db.prepare('UPDATE dossiers SET resends = resends + 1 WHERE id = ?').run(row.id);
        this.d.audit.append({
          type: 'dossier.code_reissued',
          actor: 'citizen',
          compartment: row.compartment,
          dossier: row.code,
          data: { by: 'citizen', resends: row.resends + 1 },
        });
        queued = true;
      }
    });
    if (queued) this.d.onSmsQueued();
  }
}

