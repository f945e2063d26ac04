// Turns door events into state and audit: a door opened inside its unlock window is a normal
// opening, one opened without an unlock is forced; a compartment whose dossier has left is free
// once its door shuts again; a sensor that cannot be read puts its compartment in `fault`. A door
// read through a lock board that stopped answering is in fault `board`, which ends by itself as
// soon as the board reads the door again (a loose RS485 plug must not strand its doors until
// morning); any other fault waits for staff.
// What time reveals (jammed, ajar) is DoorFaults' job: it hears every change recorded here.
import type { Logger } from 'pino';
import type { DoorBus, DoorEvent } from '../../firmware-bridge/door-bus.ts';
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import type { Compartments } from './compartments.ts';
import type { DoorChange, DoorFaults } from './door-faults.ts';
import { DEPARTING, confirmOnClose, releaseOnClose, type DossierStatus } from './lifecycle.ts';
import type { Clock, Scheduler } from './ports.ts';

/**
 * Auto-confirm (LOCKER_AUTO_CONFIRM): the door of a dossier being loaded opened and has shut, so the
 * dossier is confirmed in the same transaction as `door.closed` (DossierService.confirmByDoor); a
 * crash cannot keep one without the other. `committed` runs after the commit (sends the SMS).
 */
export interface LoadingConfirm {
  enabled: boolean;
  confirm(dossierId: number, startup?: Record<string, unknown>): void;
  committed(): void;
}

/** How soon a door event the database refused (disk full, I/O error) is tried again. */
export const UNRECORDED_RETRY_MS = 2000;

interface Unrecorded {
  event: DoorEvent;
  /** Domain time the event was seen: the unlock window is judged at that moment, not at recording. */
  seenAt: number;
  /** Refused once, or waited behind one that was: its event says when it was seen. */
  late: boolean;
}

export class DoorSupervisor {
  private unsubscribe: (() => void) | null = null;
  /** Door events seen while the database could not record them, oldest first: none may be lost. */
  private readonly unrecorded: Unrecorded[] = [];
  private cancelRetry: (() => void) | null = null;
  private readonly setDoor;
  private readonly release;
  private readonly markOpened;
  private readonly setFault;
  private readonly closeDoor;
  private readonly clearBoardFault;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly compartments: Compartments,
    private readonly bus: DoorBus,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly faults: DoorFaults | null = null,
    private readonly scheduler: Scheduler | null = null,
    private readonly loading: LoadingConfirm | null = null,
  ) {
    const db = store.db;
    this.setDoor = db.prepare('UPDATE compartments SET door = ?, opened_since_unlock = ? WHERE number = ?');
    this.release = db.prepare('UPDATE compartments SET dossier_id = NULL, unlocked_until = 0, unlocked_by = NULL WHERE number = ?');
    // The paper of a collected or withdrawn dossier has left only once its door opened for it.
    this.markOpened = db.prepare('UPDATE dossiers SET door_opened_at = COALESCE(door_opened_at, ?) WHERE id = ?');
    // A compartment already in fault keeps its first reason (a jam stays a jam); the event says the rest.
    this.setFault = db.prepare('UPDATE compartments SET fault = COALESCE(fault, ?) WHERE number = ?');
    // The latch re-engages when the door shuts: opening it again needs a new unlock.
    this.closeDoor = db.prepare("UPDATE compartments SET door = 'closed', unlocked_until = 0 WHERE number = ?");
    this.clearBoardFault = db.prepare("UPDATE compartments SET fault = NULL WHERE number = ? AND fault = 'board'");
  }

  /** Reads every sensor after the bus has started and records any change since the last run. */
  reconcile(): void {
    for (const row of this.compartments.rows()) {
      const seen = this.bus.doorState(row.number);
      if (seen === 'unknown') {
        // A fresh database says 'unknown' too: an unreadable sensor is a fault all the same.
        const board = this.bus.lostBoardOf?.(row.number) ?? null;
        this.handle({ kind: 'sensor_fault', compartment: row.number, at: this.clock.now(), reason: 'unreadable at start', ...(board ? { board } : {}) }, true);
        continue;
      }
      if (seen === row.door) continue;
      this.handle({ kind: seen === 'open' ? 'opened' : 'closed', compartment: row.number, at: this.clock.now() }, true);
    }
  }

  start(): void {
    this.unsubscribe = this.bus.onEvent((e) => {
      // In order: while older events wait for the database, a newer one waits behind them.
      this.unrecorded.push({ event: e, seenAt: this.clock.now(), late: this.unrecorded.length > 0 });
      this.flush();
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cancelRetry?.();
    this.cancelRetry = null;
    if (this.unrecorded.length > 0) {
      this.log.error({ count: this.unrecorded.length }, 'door events still not recorded at shutdown; start-up reconciles the doors');
    }
  }

  /** Door events waiting for the database. */
  pending(): number {
    return this.unrecorded.length;
  }

  /** Records waiting door events in order; on a refusal keeps them and tries again later. */
  flush(): void {
    while (this.unrecorded.length > 0) {
      const next = this.unrecorded[0];
      const { event, seenAt } = next;
      let change: DoorChange | null;
      try {
        change = this.handle(event, false, seenAt, next.late);
      } catch (err) {
        for (const u of this.unrecorded) u.late = true;
        // The disk is full or failing: a forced open must still reach the trail once it can.
        this.log.error({ err, compartment: event.compartment, kind: event.kind, waiting: this.unrecorded.length }, 'door event not recorded yet; will retry');
        if (!this.cancelRetry && this.scheduler) {
          this.cancelRetry = this.scheduler.after(UNRECORDED_RETRY_MS, () => {
            this.cancelRetry = null;
            this.flush();
          });
        }
        return;
      }
      this.unrecorded.shift();
      if (change) this.faults?.doorChanged(event.compartment, change);
    }
  }

  /** Records one door event; returns what changed (null: nothing did). */
  handle(event: DoorEvent, atStartup = false, seenAt = this.clock.now(), late = false): DoorChange | null {
    let confirmed = false;
    const change = this.store.tx((): DoorChange | null => {
      const row = this.compartments.row(event.compartment);
      if (!row) return null;
      const dossier = row.dossier_code ?? undefined;
      // An event recorded late (the database refused it first) says when it was seen.
      const startup = atStartup ? { atStartup: true } : late ? { seenAt: new Date(seenAt).toISOString() } : undefined;
      if (event.kind === 'sensor_fault') {
        // One event per episode: the sensor is already known to be unreadable.
        if (row.door === 'unknown' && row.fault !== null) return null;
        this.setFault.run(event.board ? 'board' : 'sensor', row.number);
        this.setDoor.run('unknown', row.opened_since_unlock, row.number);
        const board = event.board ? { board: event.board } : {};
        this.audit.append({ type: 'door.sensor_fault', actor: 'system', compartment: row.number, dossier, data: { reason: event.reason, ...board, ...startup } });
        this.log.error({ compartment: row.number, reason: event.reason }, 'door sensor cannot be read');
        return 'unknown';
      }
      if (row.fault === 'board' && this.clearBoardFault.run(row.number).changes > 0) {
        this.audit.append({ type: 'door.sensor_recovered', actor: 'system', compartment: row.number, dossier, data: { fault: 'board', door: event.kind === 'opened' ? 'open' : 'closed' } });
        this.log.info({ compartment: row.number }, 'door readable again: its lock board answers');
      }
      if (event.kind === 'opened') {
        if (row.door === 'open') return null;
        // Decisions use the domain clock; the bus timestamp is the hardware's and may run on another time base.
        const authorised = row.unlocked_until >= seenAt;
        this.setDoor.run('open', authorised ? 1 : row.opened_since_unlock, row.number);
        if (authorised && row.dossier_id !== null && DEPARTING.has(row.dossier_status as DossierStatus)) this.markOpened.run(seenAt, row.dossier_id);
        if (authorised) {
          this.audit.append({ type: 'door.opened', actor: row.unlocked_by ?? 'system', compartment: row.number, dossier, data: startup });
        } else {
          this.audit.append({ type: 'door.forced_open', actor: 'system', compartment: row.number, dossier, data: startup });
          this.log.warn({ compartment: row.number }, 'door opened without an unlock');
        }
        return 'opened';
      }
      if (row.door === 'closed') return null;
      this.closeDoor.run(row.number);
      const departed = row.dossier_status !== null && releaseOnClose(row.dossier_status as DossierStatus, { openedSinceUnlock: row.opened_since_unlock === 1 });
      if (departed) this.release.run(row.number);
      this.audit.append({
        type: 'door.closed',
        actor: 'system',
        compartment: row.number,
        dossier,
        data: departed || atStartup ? { ...(departed ? { released: true } : {}), ...startup } : undefined,
      });
      const facts = { openedSinceUnlock: row.opened_since_unlock === 1 };
      if (this.loading && row.dossier_id !== null && row.dossier_status !== null && confirmOnClose(row.dossier_status as DossierStatus, facts, this.loading.enabled)) {
        this.loading.confirm(row.dossier_id, startup);
        confirmed = true;
      }
      return 'closed';
    });
    // At start-up the SMS queue starts later and sends what was queued here.
    if (confirmed && !atStartup) this.loading?.committed();
    return change;
  }
}
