// Ready dossiers beyond the 24 compartments, for tests that need many live codes at once
// (brute force). The codes are issued by the service itself; the test reads each one back the
// way the SMS worker derives it, from the data dir's secrets.
import { PickupCodes } from '../../server/domain/codes.ts';
import type { DossierRow } from '../../server/domain/dossier-row.ts';
import { loadOrCreateSecrets } from '../../server/domain/secrets.ts';
import type { TestLocker } from './locker.ts';

export interface SeedOptions {
  /** First phone number's serial; phones are `08` + 8 digits. */
  phoneBase?: number;
  codePrefix?: string;
}

/** Inserts `count` ready dossiers (all booked on compartment 1); returns phone -> pickup code. */
export async function seedReadyDossiers(t: TestLocker, count: number, opts: SeedOptions = {}): Promise<Map<string, string>> {
  const ctx = t.locker.ctx;
  const db = ctx.store.db;
  const codes = new PickupCodes(loadOrCreateSecrets(t.dataDir));
  const prefix = opts.codePrefix ?? 'SEED';
  const base = opts.phoneBase ?? 20_000_000;
  const out = new Map<string, string>();
  const now = t.clock.now();
  for (let i = 0; i < count; i++) {
    const phone = `08${String(base + i).padStart(8, '0')}`;
    const nonce = `${prefix.toLowerCase()}-${i}`;
    const id = Number(
      db
        .prepare(
          `INSERT INTO dossiers (code, phone, size, compartment, status, created_by, created_at, updated_at, otp_nonce, ready_at, expires_at)
           VALUES (?, ?, 'S', 1, 'ready', 'staff:seed', ?, ?, ?, ?, ?)`,
        )
        .run(`${prefix}-${i}`, phone, now, now, nonce, now, now + ctx.config.pickupDays * 24 * 3600_000).lastInsertRowid,
    );
    const row = db.prepare('SELECT * FROM dossiers WHERE id = ?').get(id) as DossierRow;
    ctx.store.tx(() => ctx.dossiers.issueCode(row, 1, 5, now));
    out.set(phone, codes.generate(nonce, 1));
  }
  return out;
}

/** A six-digit code that is surely not `code`. */
export const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** How many times any lock was energised. */
export const unlockCount = (t: TestLocker) => t.sim.relayLog.filter((r) => r.energised).length;

/**
 * Appends `count` events of the kinds an ordinary day writes (a dossier loaded, its SMS, a wrong
 * code, the pickup, the door) through the real AuditLog, in one transaction: a long, valid,
 * hash-chained trail in seconds. The clock moves `stepMs` per event. Phones are masked as the
 * locker masks them; no pickup code is written, as in the real trail.
 */
export function seedAuditEvents(t: TestLocker, count: number, opts: { stepMs?: number; compartments?: number } = {}): void {
  const { store, audit } = t.locker.ctx;
  const step = opts.stepMs ?? 30_000;
  const doors = opts.compartments ?? 24;
  const day = (i: number) => `H29.12-251203-${String(Math.floor(i / 8)).padStart(5, '0')}`;
  store.tx(() => {
    for (let i = 0; i < count; i++) {
      const compartment = (Math.floor(i / 8) % doors) + 1;
      const dossier = day(i);
      const kind = i % 8;
      const base = { compartment, dossier };
      if (kind === 0) audit.append({ type: 'dossier.loading', actor: 'staff:clerk', ...base, data: { phone: '09******78', size: 'S', compartmentSize: 'S' } });
      else if (kind === 1) audit.append({ type: 'door.unlocked', actor: 'staff:clerk', ...base, data: { reason: 'loading' } });
      else if (kind === 2) audit.append({ type: 'door.opened', actor: 'staff:clerk', ...base });
      else if (kind === 3) audit.append({ type: 'door.closed', actor: 'system', ...base });
      else if (kind === 4) audit.append({ type: 'dossier.ready', actor: 'staff:clerk', ...base, data: { expiresAt: new Date(t.clock.now() + 7 * 86_400_000).toISOString() } });
      else if (kind === 5) audit.append({ type: 'sms.sent', actor: 'system', ...base, data: { to: '09******78', channel: 'file', kind: 'pickup_code', attempt: 1 } });
      else if (kind === 6) audit.append({ type: 'pickup.failed', actor: 'citizen', ...base, data: { reason: 'wrong_code', consecutive: 1, failures: 1, codeLocked: false } });
      else audit.append({ type: 'pickup.succeeded', actor: 'citizen', ...base });
      t.clock.advance(step);
    }
  });
}
