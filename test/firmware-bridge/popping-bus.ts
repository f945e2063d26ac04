// A simulated bank whose doors spring open when their lock is pulsed (as real ones do) and are
// shut again by the installer's hand a moment later; some doors can be set to stay shut (jammed).
import { SimDoorBus } from '../../firmware-bridge/sim-driver.ts';
import type { UnlockResult } from '../../firmware-bridge/door-bus.ts';
import type { TimerApi } from '../../firmware-bridge/pulse-sequencer.ts';

export class PoppingBus extends SimDoorBus {
  readonly jammed = new Set<number>();
  readonly stayOpen = new Set<number>();

  constructor(
    compartments: number[],
    private readonly t: TimerApi,
    private readonly popMs = 150,
    private readonly shutMs = 400,
  ) {
    super(compartments, { pulseMs: 20, gapMs: 10 }, t);
  }

  override async unlock(compartment: number): Promise<UnlockResult> {
    const r = await super.unlock(compartment);
    if (!this.jammed.has(compartment)) {
      this.t.setTimeout(() => {
        this.setDoor(compartment, true);
        if (!this.stayOpen.has(compartment)) this.t.setTimeout(() => this.setDoor(compartment, false), this.shutMs);
      }, this.popMs);
    }
    return r;
  }
}
