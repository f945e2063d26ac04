// One copy of the service per data dir: two copies would drive the same doors and hand out the
// same compartments. The lock is an exclusive SQLite transaction held open on a file of its own
// (`service.lock`) for as long as the service runs. SQLite takes it with POSIX record locks,
// which the kernel drops when the process ends in any way, SIGKILL and power loss included, so a
// crashed copy never blocks the next start, and a recycled pid cannot fake a live holder (a
// lock file holding only a pid would have both problems). The locker database itself is not
// locked: the command-line tool keeps working on it while the service runs.
// `service.pid` beside it only says who holds the lock, for the message; the lock does not trust it.
import Database from 'better-sqlite3';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDataDir } from '../db/database.ts';

export const LOCK_FILE = 'service.lock';
export const PID_FILE = 'service.pid';

export class DataDirInUseError extends Error {}

export interface InstanceLock {
  release(): void;
}

export function lockDataDir(dataDir: string): InstanceLock {
  ensureDataDir(dataDir);
  const pidPath = join(dataDir, PID_FILE);
  const db = new Database(join(dataDir, LOCK_FILE));
  try {
    // Fail at once rather than wait: the holder may run for months.
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY' || (err as { code?: string }).code === 'SQLITE_LOCKED') {
      const pid = readPid(pidPath);
      throw new DataDirInUseError(
        `data dir ${dataDir} is in use by another copy of the locker service${pid ? ` (pid ${pid})` : ''}: stop that one first, or give this one its own LOCKER_DATA_DIR`,
      );
    }
    throw err;
  }
  // Written whole under a temporary name and renamed, so a reader never sees half a pid.
  const partial = `${pidPath}.${process.pid}.partial`;
  writeFileSync(partial, `${process.pid}\n`, { mode: 0o644 });
  renameSync(partial, pidPath);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      if (readPid(pidPath) === process.pid) rmSync(pidPath, { force: true });
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}

function readPid(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
