// Keeps the retained `B/L/state` snapshot current: published on every connect and after every
// commit that carried audit events (every state change writes one). Bursts are coalesced.
// The snapshot holds compartment numbers, sizes, statuses and doors only: no personal data.
import type { Logger } from 'pino';
import type { Store } from '../db/store.ts';
import type { AuditLog } from '../domain/audit-log.ts';
import type { CompartmentView, Compartments } from '../domain/compartments.ts';
import type { Clock, Scheduler } from '../domain/ports.ts';
import type { PublishPort } from './port.ts';

export interface StateSnapshot {
  compartments: CompartmentView[];
  seq: number;
  at: string;
}

export function stateSnapshot(compartments: Compartments, audit: AuditLog, clock: Clock): StateSnapshot {
  return { compartments: compartments.list(), seq: audit.latestSeq(), at: new Date(clock.now()).toISOString() };
}

const COALESCE_MS = 50;

export class StatePublisher {
  private unsubscribe: (() => void) | null = null;
  private cancelPending: (() => void) | null = null;
  published = 0;

  constructor(
    private readonly store: Store,
    private readonly port: PublishPort,
    private readonly topic: string,
    private readonly snapshot: () => StateSnapshot,
    private readonly scheduler: Scheduler,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.store.onCommit(() => this.schedule());
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cancelPending?.();
    this.cancelPending = null;
  }

  private schedule(): void {
    if (this.cancelPending) return;
    this.cancelPending = this.scheduler.after(COALESCE_MS, () => {
      this.cancelPending = null;
      this.publishNow();
    });
  }

  /** While offline nothing is queued: the next connect publishes a fresh snapshot. */
  publishNow(): void {
    if (!this.port.connected) return;
    let payload: string;
    try {
      payload = JSON.stringify(this.snapshot());
    } catch (err) {
      this.log.error({ err }, 'could not read the state snapshot');
      return;
    }
    this.published++;
    this.port.publish(this.topic, payload, { qos: 1, retain: true }, (err) => {
      if (err) this.log.warn({ err: err.message }, 'state publish failed; the next change or reconnect republishes it');
    });
  }
}
