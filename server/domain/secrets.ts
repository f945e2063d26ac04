// Keys that must never sit in the database: whoever copies locker.db alone learns no code.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Secrets {
  /** Derives each dossier's HOTP secret. */
  otpKey: Buffer;
  /** Keys the stored hash of a pickup code. */
  codeHashKey: Buffer;
}

export function loadOrCreateSecrets(dataDir: string): Secrets {
  const file = join(dataDir, 'secrets.json');
  if (!existsSync(file)) {
    const fresh = { otpKey: randomBytes(32).toString('base64'), codeHashKey: randomBytes(32).toString('base64') };
    // 'wx' so two processes starting at once cannot overwrite each other's keys.
    try {
      writeFileSync(file, `${JSON.stringify(fresh)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const otpKey = Buffer.from(parsed.otpKey ?? '', 'base64');
  const codeHashKey = Buffer.from(parsed.codeHashKey ?? '', 'base64');
  if (otpKey.length < 16 || codeHashKey.length < 16) throw new Error(`${file} is damaged: keys must be at least 16 bytes`);
  return { otpKey, codeHashKey };
}
