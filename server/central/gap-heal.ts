// Heals gaps: when a locker's gap alarm is open, ask the locker to publish the missing events
// again (`events/republish`, an addition to the contract's commands: see server/mqtt/README.md), and ask
// again every so often while the gap stays (the locker may be offline, or the answer lost). An
// event the locker no longer has cannot come back: that gap stays, and so does its alarm.
// In a cluster the instances race for the same claim row, so one asks.
import type { Logger } from 'pino';
import { MAX_REPUBLISH } from '../mqtt/commands.ts';
import type { Clock } from '../domain/ports.ts';
import type { CommandSender } from './commands.ts';
import type { CentralDb } from './db/sql.ts';
import { missingRanges } from './trail-check.ts';

const MAX_RANGES = 20;

export class GapHealer {
  constructor(
    private readonly db: CentralDb,
    private readonly commands: CommandSender,
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly log: Logger,
  ) {}

  async run(connected: boolean): Promise<number> {
    if (!connected) return 0;
    const now = this.clock.now();
    const due = await this.db.all<{ id: string; latest: number }>(
      `SELECT l.id, CASE WHEN l.max_seq > l.state_seq THEN l.max_seq ELSE l.state_seq END AS latest FROM lockers l
       WHERE (l.republish_at IS NULL OR l.republish_at <= :cutoff)
         AND EXISTS (SELECT 1 FROM alarms a WHERE a.locker = l.id AND a.kind = 'gap' AND a.closed_at IS NULL)`,
      { cutoff: now - this.everyMs },
    );
    let asked = 0;
    for (const { id, latest } of due) {
      const claimed = await this.db.run(
        'UPDATE lockers SET republish_at = :now WHERE id = :id AND (republish_at IS NULL OR republish_at <= :cutoff)',
        { id, now, cutoff: now - this.everyMs },
      );
      if (claimed === 0) continue;
      const ranges = await missingRanges(this.db, id, latest, MAX_RANGES);
      for (const r of ranges) {
        for (let from = r.from; from <= r.to; from += MAX_REPUBLISH) {
          const to = Math.min(r.to, from + MAX_REPUBLISH - 1);
          await this.commands.dispatch(id, 'events/republish', { from, to }, 'system');
          asked++;
        }
      }
      if (ranges.length > 0) this.log.info({ locker: id, ranges }, 'asked the locker to publish its missing events again');
    }
    return asked;
  }
}
