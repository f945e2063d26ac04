// Every unlock is authorised and audited in the same transaction as the change that asked
// for it; only after that commits is the relay pulsed. A door never opens without its row.
import type { Logger } from 'pino';
import type { DoorBus } from '../../firmware-bridge/door-bus.ts';
import { PulseSequencerClosed } from '../../firmware-bridge/pulse-sequencer.ts';
import type { Store } from '../db/store.ts';
import type { AuditLog } from './audit-log.ts';
import { DomainError } from './errors.ts';
import type { Clock } from './ports.ts';

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

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly bus: DoorBus,
    private readonly clock: Clock,
    private readonly unlockWindowMs: number,
    private readonly log: Logger,
    private readonly watcher: PulseWatcher | null = null,
  ) {
    this.markUnlocked = store.db.prepare(
      'UPDATE compartments SET unlocked_until = ?, unlocked_by = ?, opened_since_unlock = 0 WHERE number = ?',
    );
    this.markFault = store.db.prepare('UPDATE compartments SET fault = ?, unlocked_until = 0 WHERE number = ?');
    this.faultOf = store.db.prepare<[number], { fault: string | null }>('SELECT fault FROM compartments WHERE number = ?');
    this.closeWindow = store.db.prepare('UPDATE compartments SET unlocked_until = 0 WHERE number = ?');
  }

  /** Inside a transaction: opens the unlock window and writes `door.unlocked`. */
  authorise(compartment: number, actor: string, reason: UnlockReason, dossier?: string): void {
    this.markUnlocked.run(this.clock.now() + this.unlockWindowMs, actor, compartment);
    this.audit.append({ type: 'door.unlocked', actor, compartment, dossier, data: { reason } });
  }

  /** After the commit: pulses the lock. On failure the compartment is marked `fault` and audited. */
  async pulse(compartment: number, actor: string, dossier?: string): Promise<void> {
    // A jammed lock stays shut for a citizen: pulsing it again only heats the solenoid. Staff, who
    // stand at the door and can push on it while it pulses, may still try.
    if (actor === 'citizen' && this.faultOf.get(compartment)?.fault === 'jammed') {
      this.store.tx(() => {
        this.closeWindow.run(compartment);
        this.audit.append({ type: 'door.unlock_refused', actor: 'system', compartment, dossier, data: { reason: 'jammed', requestedBy: actor } });
      });
      throw new DomainError(503, 'door_fault', `Door ${compartment} is jammed and cannot be opened; please contact staff.`);
    }
    try {
      await this.bus.unlock(compartment);
    } catch (err) {
      if (err instanceof PulseSequencerClosed) {
        // The service is stopping: the lock was never pulsed, and nothing is wrong with it.
        this.store.tx(() => {
          this.closeWindow.run(compartment);
          this.audit.append({ type: 'door.unlock_failed', actor: 'system', compartment, dossier, data: { reason: 'the locker is stopping', requestedBy: actor } });
        });
        throw new DomainError(503, 'door_fault', 'The locker is restarting; please try again in a minute.');
      }
      const reason = err instanceof Error ? err.message : String(err);
      this.log.error({ compartment, err: reason }, 'lock pulse failed');
      this.store.tx(() => {
        this.markFault.run('unlock_failed', compartment);
        this.audit.append({ type: 'door.unlock_failed', actor: 'system', compartment, dossier, data: { reason, requestedBy: actor } });
      });
      throw new DomainError(503, 'door_fault', 'The door could not be unlocked; please contact staff.');
    }
    this.watcher?.pulsed(compartment, actor, dossier);
  }
}
