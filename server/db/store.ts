// A unit of work: every state change, its audit events and their outbox rows commit together.
// Listeners hear about the events only after the commit, so nothing is published that could
// still roll back.
import type { Db } from './database.ts';
import type { AuditEvent } from '../domain/audit-event.ts';

export type CommitListener = (events: AuditEvent[]) => void;

export class Store {
  private depth = 0;
  private pending: AuditEvent[] = [];
  private readonly listeners = new Set<CommitListener>();

  constructor(readonly db: Db) {}

  tx<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (err) {
      this.pending = [];
      throw err;
    } finally {
      this.depth--;
    }
    const events = this.pending;
    this.pending = [];
    if (events.length > 0) for (const l of this.listeners) l(events);
    return result;
  }

  /** Called by the audit log inside a transaction. */
  recordPending(event: AuditEvent): void {
    if (this.depth === 0) throw new Error('audit events are only written inside Store.tx');
    this.pending.push(event);
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
