// Every unlock is authorised and audited in the same transaction as the change that asked
// for it; only after that commits is the relay pulsed. A door never opens without its row.
// The unlock window runs from the pulse, not from the commit: a pulse queued behind others still
// leaves the person its whole window. When the window ends and the door of a pickup never opened,
// the pickup is undone (Bookings), as it is when the pulse fails or the service stops first.
import type { Logger } from 'pino';
import type { DoorBus } from '../../firmware-bridge/door-bus.ts';
import { PulseSequencerClosed } from '../../firmware-bridge/pulse-sequencer.ts';
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import type { Bookings } from './bookings.ts';
import { DomainError } from './errors.ts';
import type { Clock, Scheduler } from './ports.ts';

/** Slack after a window's end before its lapse is judged: a door event in flight gets recorded first. */
export const LAPSE_GRACE_MS = 1000;

export type UnlockReason = 'loading' | 'pickup' | 'withdraw' | 'staff';

/** Hears about every energised unlock (DoorFaults watches whether the door then opens). */
export interface PulseWatcher {
  pulsed(compartment: number, actor: string, dossier?: string): void;
}

export class DoorControl {
  private readonly markUnlocked;
  private readonly markFault;
  private readonly faultOf;
  private readonly closeWindow;
  private readonly windowFrom;
  private readonly windowOf;
  private readonly lapses = new Map<number, () => void>();
  /** Compartments whose pulse has been asked for and not yet ended: their window starts later. */
  private readonly inFlight = new Map<number, number>();
  private readonly lapsedPickups;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly bus: DoorBus,
    private readonly clock: Clock,
    private readonly unlockWindowMs: number,
    private readonly log: Logger,
    private readonly bookings: Bookings,
    private readonly scheduler: Scheduler,
    private readonly watcher: PulseWatcher | null = null,
  ) {
    // A door standing open when it is unlocked has, for this unlock, opened: whatever it is for
    // (a withdraw during loading, a staff look) is done once it shuts.
    this.markUnlocked = store.db.prepare(
      `UPDATE compartments SET unlocked_until = ?, unlocked_by = ?, opened_since_unlock = CASE WHEN door = 'open' THEN 1 ELSE 0 END WHERE number = ?`,
    );
    this.windowFrom = store.db.prepare('UPDATE compartments SET unlocked_until = MAX(unlocked_until, ?) WHERE number = ? AND unlocked_until > 0');
    this.windowOf = store.db.prepare<[number], { unlocked_until: number }>('SELECT unlocked_until FROM compartments WHERE number = ?');
    this.lapsedPickups = store.db
      .prepare<[number], number>(
        `SELECT c.number FROM compartments c JOIN dossiers d ON d.id = c.dossier_id
         WHERE d.status = 'picked_up' AND c.opened_since_unlock = 0 AND c.door != 'open' AND c.unlocked_until < ? ORDER BY c.number`,
      )
      .pluck();
    this.markFault = store.db.prepare('UPDATE compartments SET fault = ?, unlocked_until = 0 WHERE number = ?');
    this.faultOf = store.db.prepare<[number], { fault: string | null }>('SELECT fault FROM compartments WHERE number = ?');
    this.closeWindow = store.db.prepare('UPDATE compartments SET unlocked_until = 0 WHERE number = ?');
  }

  /** Inside a transaction: opens the unlock window and writes `door.unlocked`. */
  authorise(compartment: number, actor: string, reason: UnlockReason, dossier?: string, note?: string): void {
    this.markUnlocked.run(this.clock.now() + this.unlockWindowMs, actor, compartment);
    // A repair unlock carries the words staff gave for it; the others say what they are for.
    this.audit.append({ type: 'door.unlocked', actor, compartment, dossier, data: note === undefined ? { reason } : { reason: note, purpose: reason } });
  }

  /** After the commit: pulses the lock. On failure the compartment is marked `fault` and audited. */
  async pulse(compartment: number, actor: string, dossier?: string): Promise<void> {
    // A jammed lock stays shut for a citizen: pulsing it again only heats the solenoid. Staff, who
    // stand at the door and can push on it while it pulses, may still try.
    // Likewise a door whose lock board is not answering: the release would reach nobody, and the
    // citizen would wait out a jam timeout for nothing. The pickup is given back (same code).
    const fault = actor === 'citizen' ? this.faultOf.get(compartment)?.fault : null;
    if (fault === 'jammed' || fault === 'board') {
      const reason = fault === 'jammed' ? 'jammed' : 'board_lost';
      this.store.tx(() => {
        this.closeWindow.run(compartment);
        this.bookings.revertPickup(compartment, reason);
        this.audit.append({ type: 'door.unlock_refused', actor: 'system', compartment, dossier, data: { reason, requestedBy: actor } });
      });
      const why = fault === 'jammed' ? 'is jammed and cannot be opened' : 'cannot be opened right now (its lock board is not answering)';
      throw new DomainError(503, 'door_fault', `Door ${compartment} ${why}; please contact staff.`);
    }
    this.inFlight.set(compartment, (this.inFlight.get(compartment) ?? 0) + 1);
    try {
      await this.bus.unlock(compartment);
    } catch (err) {
      if (err instanceof PulseSequencerClosed) {
        // The service is stopping: the lock was never pulsed, and nothing is wrong with it.
        this.store.tx(() => {
          this.closeWindow.run(compartment);
          this.audit.append({ type: 'door.unlock_failed', actor: 'system', compartment, dossier, data: { reason: 'the locker is stopping', requestedBy: actor } });
          this.bookings.revertPickup(compartment, 'stopping');
        });
        throw new DomainError(503, 'door_fault', 'The locker is restarting; please try again in a minute.');
      }
      const reason = err instanceof Error ? err.message : String(err);
      this.log.error({ compartment, err: reason }, 'lock pulse failed');
      this.store.tx(() => {
        this.markFault.run('unlock_failed', compartment);
        this.audit.append({ type: 'door.unlock_failed', actor: 'system', compartment, dossier, data: { reason, requestedBy: actor } });
        this.bookings.revertPickup(compartment, 'pulse_failed');
      });
      throw new DomainError(503, 'door_fault', 'The door could not be unlocked; please contact staff.');
    } finally {
      const left = (this.inFlight.get(compartment) ?? 1) - 1;
      if (left > 0) this.inFlight.set(compartment, left);
      else this.inFlight.delete(compartment);
    }
    this.store.tx(() => this.windowFrom.run(this.clock.now() + this.unlockWindowMs, compartment));
    this.watchLapse(compartment, this.unlockWindowMs + LAPSE_GRACE_MS);
    this.watcher?.pulsed(compartment, actor, dossier);
  }

  /**
   * Undoes every pickup whose window is over and whose door never opened (the periodic sweep: the
   * per-pulse timer does the same sooner). A pulse still queued is left alone: its window has not begun.
   */
  sweepLapsed(): number {
    let n = 0;
    for (const compartment of this.lapsedPickups.all(this.clock.now())) {
      if (this.inFlight.has(compartment)) continue;
      if (this.bookings.revertPickup(compartment, 'not_opened')) n++;
    }
    return n;
  }

  /** Cancels the lapse checks (shutdown): the start-up reconcile judges what is left. */
  stop(): void {
    for (const cancel of this.lapses.values()) cancel();
    this.lapses.clear();
  }

  private watchLapse(compartment: number, afterMs: number): void {
    this.lapses.get(compartment)?.();
    this.lapses.set(
      compartment,
      this.scheduler.after(afterMs, () => {
        this.lapses.delete(compartment);
        try {
          this.lapse(compartment);
        } catch (err) {
          this.log.error({ err, compartment }, 'unlock lapse check failed');
        }
      }),
    );
  }

  /** The window is over (or was moved on: look again then). A pickup whose door never opened is undone. */
  private lapse(compartment: number): void {
    const until = this.windowOf.get(compartment)?.unlocked_until ?? 0;
    const now = this.clock.now();
    if (until >= now) {
      this.watchLapse(compartment, until - now + LAPSE_GRACE_MS);
      return;
    }
    if (!this.inFlight.has(compartment)) this.bookings.revertPickup(compartment, 'not_opened');
  }
}
