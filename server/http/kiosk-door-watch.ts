// Lets the kiosk learn that the door it opened is shut again, and nothing else. A pickup's answer
// carries an opaque token; the token answers only that compartment's door, only for a few
// minutes, and only as "not opened yet", "open" or "shut" (no booking, no other door). It is
// kept in memory: after a restart the kiosk simply falls back to its own countdown.
import { randomBytes } from 'node:crypto';
import type { Compartments } from '../domain/compartments.ts';
import type { Clock } from '../domain/ports.ts';

export type WatchedDoor = 'waiting' | 'open' | 'shut';

/** At most this many live tokens; the oldest goes first (a kiosk serves one citizen at a time). */
const MAX_TOKENS = 64;

export class KioskDoorWatch {
  private readonly tokens = new Map<string, { compartment: number; until: number }>();

  constructor(
    private readonly compartments: Compartments,
    private readonly clock: Clock,
    /** How long a token answers: the unlock window plus time to take the paper and shut the door. */
    private readonly ttlMs: number,
  ) {}

  issue(compartment: number): string {
    const now = this.clock.now();
    for (const [t, w] of this.tokens) if (w.until <= now) this.tokens.delete(t);
    while (this.tokens.size >= MAX_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
    const token = randomBytes(18).toString('base64url');
    this.tokens.set(token, { compartment, until: now + this.ttlMs });
    return token;
  }

  /** The watched door's state, or null for a token that is unknown or past its time. */
  state(token: string): WatchedDoor | null {
    const w = this.tokens.get(token);
    if (!w) return null;
    if (w.until <= this.clock.now()) {
      this.tokens.delete(token);
      return null;
    }
    const row = this.compartments.row(w.compartment);
    if (!row) return null;
    if (row.door === 'open') return 'open';
    // Closed (or unreadable) after opening since the pickup's unlock: the citizen shut it.
    return row.opened_since_unlock === 1 ? 'shut' : 'waiting';
  }
}
