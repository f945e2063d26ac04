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
