// Copies the WAL back into the database file from a thread of its own. With SQLite's automatic
// checkpoint, the commit that takes the WAL past 1000 pages does that copy and an fsync of the
// database file before it returns, and that commit may be a citizen's pickup waiting for its
// door (README "Benchmarks", door-open latency). Here the service's connection never checkpoints
// on commit; a second connection on a worker thread does it once a second while there are writes.
// If that thread fails, the service's connection goes back to SQLite's automatic checkpoint, so
// the WAL never grows without bound.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Scheduler } from '../domain/ports.ts';
import type { Db } from './database.ts';

/** SQLite's default, restored when the worker cannot run. */
const AUTO_CHECKPOINT_PAGES = 1000;

// Plain JavaScript evaluated in the worker: a file beside this one would not exist in the bundle.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String((err && err.message) || err) });
  }
});
`;

export interface CheckpointResult {
  /** Frames in the WAL, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
}

export class WalCheckpointer {
  private worker: Worker | null = null;
  private busy = false;
  private dirty = false;
  private cancelTimer: (() => void) | null = null;
  private waiters: ((r: CheckpointResult | null) => void)[] = [];
  private readonly totalChanges;
  private lastChanges = -1;

  constructor(
    private readonly db: Db,
    private readonly scheduler: Scheduler,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {
    this.totalChanges = db.prepare<[], number>('SELECT total_changes()').pluck();
  }

  /** True while the worker does the checkpoints (false before start, after stop or after a failure). */
  get active(): boolean {
    return this.worker !== null;
  }

  start(): void {
    if (this.worker || this.db.memory) return;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: this.db.name } });
    worker.unref();
    worker.on('message', (m: { ok: boolean; log?: number; checkpointed?: number; error?: string }) => {
      this.busy = false;
      const result = m.ok ? { log: m.log!, checkpointed: m.checkpointed! } : null;
      if (!m.ok) this.log.warn({ err: m.error }, 'WAL checkpoint failed; trying again in a second');
      for (const w of this.waiters.splice(0)) w(result);
    });
    worker.on('error', (err) => this.fail(worker, err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fail(worker, new Error(`checkpoint thread exited with code ${code}`));
    });
    this.worker = worker;
    this.db.pragma('wal_autocheckpoint = 0');
    this.cancelTimer = this.scheduler.every(this.intervalMs, () => this.tick());
  }

  /** Asks for a checkpoint now; resolves with its result, or null if it could not run. */
  checkpoint(): Promise<CheckpointResult | null> {
    if (!this.worker) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      if (!this.busy) this.post();
      else this.dirty = true;
    });
  }

  async stop(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = null;
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    // The connection that stays checkpoints on its own again, and on close.
    this.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    // Held while it closes its connection: an idle process would otherwise exit mid-shutdown.
    worker.ref();
    worker.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    await worker.terminate();
    for (const w of this.waiters.splice(0)) w(null);
  }

  private tick(): void {
    // Nothing written since the last pass: nothing to copy.
    const changes = this.totalChanges.get()!;
    if (changes === this.lastChanges && !this.dirty) return;
    this.lastChanges = changes;
    if (this.busy) {
      this.dirty = true;
      return;
    }
    this.post();
  }

  private post(): void {
    this.busy = true;
    this.dirty = false;
    this.worker!.postMessage('checkpoint');
  }

  private fail(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.busy = false;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    this.log.error({ err: err.message }, 'checkpoint thread failed; the database checkpoints on commit again');
    for (const w of this.waiters.splice(0)) w(null);
  }
}
