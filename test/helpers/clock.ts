import type { Clock } from '../../server/domain/ports.ts';

/** Domain time under the test's control (expiry, throttles, unlock windows). */
export class ManualClock implements Clock {
  constructor(public t = Date.parse('2026-11-23T15:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
