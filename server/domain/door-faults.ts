// Door faults that only time reveals. A lock energised for an authorised unlock whose door does
// not open within the jam timeout gets one more pulse; if the door still stays shut it is
// `door.jammed`, the compartment goes to `fault`, and a citizen's pickup that never opened is
// given back (the dossier is still inside, so the same code works again; the kiosk then tells
// the citizen to contact staff). A door left open too long raises `door.ajar`, again and again
// while it stays open.
import type { Logger } from 'pino';
import type { DoorBus } from '../../firmware-bridge/door-bus.ts';
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import type { Bookings } from './bookings.ts';
import type { Compartments } from './compartments.ts';
import type { Clock, Scheduler } from './ports.ts';

export interface DoorFaultTiming {
  /** Unlocked but not opened after this long: retry once, then jammed. 0 turns the check off. */
  jamMs: number;
  /** Open this long: `door.ajar`, repeated every `ajarMs` while it stays open. 0 turns it off. */
  ajarMs: number;
}

export interface DoorFaultDeps {
  store: Store;
  audit: AuditLog;
  compartments: Compartments;
  bus: DoorBus;
  bookings: Bookings;
  clock: Clock;
  scheduler: Scheduler;
  log: Logger;
  timing: DoorFaultTiming;
}

export type DoorChange = 'opened' | 'closed' | 'unknown';

interface JamWatch {
  cancel: () => void;
  attempt: 1 | 2;
}

export class DoorFaults {
  private readonly jams = new Map<number, JamWatch>();
  private readonly ajar = new Map<number, () => void>();
  private running = false;
  private readonly extendWindow;
  private readonly markJammed;

  constructor(private readonly d: DoorFaultDeps) {
    const db = d.store.db;
    this.extendWindow = db.prepare('UPDATE compartments SET unlocked_until = MAX(unlocked_until, ?) WHERE number = ?');
    this.markJammed = db.prepare("UPDATE compartments SET fault = 'jammed', unlocked_until = 0 WHERE number = ?");
  }

  /** After the start-up reconcile: doors found open start their ajar clock now. */
  start(): void {
    this.running = true;
    for (const row of this.d.compartments.rows()) if (row.door === 'open') this.startAjar(row.number);
  }

  stop(): void {
    this.running = false;
    for (const w of this.jams.values()) w.cancel();
    for (const cancel of this.ajar.values()) cancel();
    this.jams.clear();
    this.ajar.clear();
  }

  /** The relay of an authorised unlock was energised: the door should open now. */
  pulsed(compartment: number, actor: string, dossier?: string): void {
    if (!this.running || this.d.timing.jamMs <= 0) return;
    this.watchJam(compartment, 1, actor, dossier);
  }

  /** What the door sensor now says, after the supervisor recorded it. */
  doorChanged(compartment: number, change: DoorChange): void {
    if (!this.running) return;
    if (change === 'opened') {
      this.cancelJam(compartment);
      this.startAjar(compartment);
      return;
    }
    this.stopAjar(compartment);
    // Without a sensor a jam cannot be told from a door that opened: the sensor fault says enough.
    if (change === 'unknown') this.cancelJam(compartment);
  }

  private watchJam(compartment: number, attempt: 1 | 2, actor: string, dossier?: string): void {
    this.cancelJam(compartment);
    const cancel = this.d.scheduler.after(this.d.timing.jamMs, () => {
      this.jams.delete(compartment);
      try {
        this.checkJam(compartment, attempt, actor, dossier);
      } catch (err) {
        this.d.log.error({ err, compartment }, 'jam check failed');
      }
    });
    this.jams.set(compartment, { cancel, attempt });
  }

  private cancelJam(compartment: number): void {
    this.jams.get(compartment)?.cancel();
    this.jams.delete(compartment);
  }

  private stillShut(compartment: number): boolean {
    const row = this.d.compartments.row(compartment);
    return !!row && row.opened_since_unlock === 0 && row.door === 'closed';
  }

  private checkJam(compartment: number, attempt: 1 | 2, actor: string, dossier?: string): void {
    if (!this.running || !this.stillShut(compartment)) return;
    if (attempt === 2) {
      this.jammed(compartment, actor);
      return;
    }
    const waitedSec = this.d.timing.jamMs / 1000;
    this.d.store.tx(() => {
      // The retry gets its own window, so an opening after it is not taken for a forced one.
      this.extendWindow.run(this.d.clock.now() + this.d.timing.jamMs + 1000, compartment);
      this.d.audit.append({
        type: 'door.unlock_retried',
        actor: 'system',
        compartment,
        dossier,
        data: { reason: 'not_opened', waitedSec, requestedBy: actor },
      });
    });
    this.d.log.warn({ compartment, waitedSec }, 'door did not open after its unlock: pulsing once more');
    this.d.bus.unlock(compartment).then(
      () => {
        if (this.running) this.watchJam(compartment, 2, actor, dossier);
      },
      (err: Error) => {
        if (this.running) this.jammed(compartment, actor, `the retry pulse failed: ${err.message}`);
      },
    );
  }

  private jammed(compartment: number, actor: string, reason = 'not_opened'): void {
    const outcome = this.d.store.tx(() => {
      if (!this.stillShut(compartment)) return null;
      const row = this.d.compartments.row(compartment)!;
      this.markJammed.run(compartment);
      // A pickup whose door never opened: the dossier is still inside, so its code works again.
      const restored = this.d.bookings.revertPickup(compartment, 'jammed');
      this.d.audit.append({
        type: 'door.jammed',
        actor: 'system',
        compartment,
        dossier: row.dossier_code ?? undefined,
        data: {
          reason,
          attempts: 2,
          waitedSec: (2 * this.d.timing.jamMs) / 1000,
          requestedBy: actor,
          ...(restored ? { dossierStatus: 'ready' } : {}),
        },
      });
      return { restored };
    });
    if (outcome) this.d.log.error({ compartment, reason, restored: outcome.restored }, 'door jammed: compartment set to fault');
  }

  private startAjar(compartment: number): void {
    if (this.d.timing.ajarMs <= 0) return;
    this.stopAjar(compartment);
    let alarms = 0;
    const tick = () => {
      this.ajar.delete(compartment);
      if (!this.running) return;
      const row = this.d.compartments.row(compartment);
      if (!row || row.door !== 'open') return;
      alarms++;
      try {
        this.d.store.tx(() => {
          this.d.audit.append({
            type: 'door.ajar',
            actor: 'system',
            compartment,
            dossier: row.dossier_code ?? undefined,
            data: { openForSec: (alarms * this.d.timing.ajarMs) / 1000, alarm: alarms },
          });
        });
        this.d.log.warn({ compartment, alarm: alarms }, 'door left open');
      } catch (err) {
        this.d.log.error({ err, compartment }, 'door.ajar not recorded');
      }
      this.ajar.set(compartment, this.d.scheduler.after(this.d.timing.ajarMs, tick));
    };
    this.ajar.set(compartment, this.d.scheduler.after(this.d.timing.ajarMs, tick));
  }

  private stopAjar(compartment: number): void {
    this.ajar.get(compartment)?.();
    this.ajar.delete(compartment);
  }
}
