// `locker backup <file>`: a consistent copy of the live database through SQLite's online
// backup API, safe while the service runs (it reads a snapshot; the service keeps writing).
// The copy is checked (integrity_check, the audit chain) before it takes its final name, so a
// file with that name is always a whole, readable database. Restore: README, "Backup and restore".
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, fsyncSync, openSync, closeSync, renameSync, rmSync, statSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, configSource } from '../config/load.ts';
import { Store } from '../db/store.ts';
import { AuditLog } from '../domain/audit-log.ts';
import { systemClock } from '../domain/ports.ts';
import type { CliIo } from './locker.ts';

export const BACKUP_USAGE = '  locker backup <file> [--force] [--with-secrets]';

export interface BackupResult {
  file: string;
  bytes: number;
  events: number;
  head: string | null;
  chainOk: boolean;
  secretsFile: string | null;
}

export class BackupError extends Error {}

export interface BackupOptions {
  force?: boolean;
  /** Also copy secrets.json (the keys behind live pickup codes) to `<file>.secrets.json`. */
  withSecrets?: boolean;
}

export async function backupDatabase(dataDir: string, target: string, opts: BackupOptions = {}): Promise<BackupResult> {
  const source = join(dataDir, 'locker.db');
  const file = resolve(target);
  if (!existsSync(source)) throw new BackupError(`no database at ${source} (is LOCKER_DATA_DIR right?)`);
  if (file === resolve(source) || file.startsWith(`${resolve(source)}-`)) throw new BackupError('the backup cannot overwrite the live database');
  if (existsSync(file) && !opts.force) throw new BackupError(`${file} exists; pass --force to replace it`);
  if (!existsSync(dirname(file))) throw new BackupError(`folder ${dirname(file)} does not exist`);
  const secretsSource = join(dataDir, 'secrets.json');
  const secretsFile = opts.withSecrets ? `${file}.secrets.json` : null;
  if (secretsFile && !existsSync(secretsSource)) throw new BackupError(`no secrets file at ${secretsSource}`);

  const partial = `${file}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  // Not read-only: a read-only connection cannot open a WAL database whose -shm is missing
  // (service stopped). This connection never writes; busy_timeout rides out the service's commits.
  const src = new Database(source, { fileMustExist: true });
  try {
    src.pragma('busy_timeout = 5000');
    await src.backup(partial);
  } catch (err) {
    rmSync(partial, { force: true });
    throw new BackupError(`backup failed: ${(err as Error).message}`);
  } finally {
    src.close();
  }

  let result: Omit<BackupResult, 'file' | 'bytes' | 'secretsFile'>;
  const copy = new Database(partial, { fileMustExist: true });
  try {
    // One self-contained file: no -wal/-shm beside it (the service switches WAL on again).
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`the copy fails integrity_check: ${String(check)}`);
    const verified = new AuditLog(new Store(copy), systemClock).verify();
    result = { events: verified.count, head: verified.ok ? verified.head : null, chainOk: verified.ok };
  } catch (err) {
    copy.close();
    rmSync(partial, { force: true });
    throw err instanceof BackupError ? err : new BackupError(`the copy cannot be read back: ${(err as Error).message}`);
  }
  copy.close();
  chmodSync(partial, 0o600);
  syncFile(partial);
  renameSync(partial, file);
  syncFile(dirname(file));
  if (secretsFile) {
    copyFileSync(secretsSource, secretsFile);
    chmodSync(secretsFile, 0o600);
    syncFile(secretsFile);
  }
  return { file, bytes: statSync(file).size, secretsFile, ...result };
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function runBackup(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { force: { type: 'boolean' }, 'with-secrets': { type: 'boolean' } },
  });
  if (positionals.length !== 1) {
    io.stderr.write(`locker: backup takes one file name\nusage:\n${BACKUP_USAGE}\n`);
    return 1;
  }
  const config = loadConfig(configSource());
  try {
    const r = await backupDatabase(config.dataDir, positionals[0], { force: values.force, withSecrets: values['with-secrets'] });
    io.stdout.write(
      `backup written: ${r.file} (${r.bytes} bytes, ${r.events} audit events, ` +
        `${r.chainOk ? `chain ok, head ${r.head}` : 'audit chain BROKEN in the source: run `locker audit verify`'})\n`,
    );
    if (r.secretsFile) io.stdout.write(`secrets copied to ${r.secretsFile}: keep it apart from the backup, as safely as a key\n`);
    return 0;
  } catch (err) {
    if (err instanceof BackupError) {
      io.stderr.write(`locker: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
