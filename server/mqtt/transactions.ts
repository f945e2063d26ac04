// Answers already given to MQTT commands, by transaction id. Stored in the same SQLite
// transaction as the change the command made, so "applied" and "answered" cannot disagree.
import type { Store } from '../db/store.ts';

export interface StoredAnswer {
  command: string;
  requestHash: string;
  response: string;
}

/** Long enough for any central-office retry; short enough that the table stays small. */
export const TRANSACTION_RETENTION_MS = 30 * 24 * 3600 * 1000;

export class TransactionLog {
  private readonly select;
  private readonly insertRow;
  private readonly pruneOld;

  constructor(store: Store) {
    const db = store.db;
    this.select = db.prepare<[string], { command: string; request_hash: string; response: string }>(
      'SELECT command, request_hash, response FROM mqtt_transactions WHERE txn = ?',
    );
    this.insertRow = db.prepare('INSERT INTO mqtt_transactions (txn, command, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)');
    this.pruneOld = db.prepare('DELETE FROM mqtt_transactions WHERE created_at < ?');
  }

  find(txn: string): StoredAnswer | undefined {
    const r = this.select.get(txn);
    return r && { command: r.command, requestHash: r.request_hash, response: r.response };
  }

  insert(txn: string, answer: StoredAnswer, now: number): void {
    this.insertRow.run(txn, answer.command, answer.requestHash, answer.response, now);
  }

  prune(now: number): number {
    return this.pruneOld.run(now - TRANSACTION_RETENTION_MS).changes;
  }
}
