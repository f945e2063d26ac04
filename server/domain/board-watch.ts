// Lock boards lost and back, in the audit trail: `board.lost` (an alarm: the doors on that board
// cannot be opened or read until someone checks its cable and power) and `board.recovered`, each
// naming the board, its address and its compartments. The doors themselves are the supervisor's:
// each goes to fault `board` and comes back once the board reads it again. A board already silent
// at start is recorded when the service starts. Events the database refuses wait and are retried,
// as door events are.
import type { Logger } from 'pino';
import type { BoardEvent, DoorBus } from '../../firmware-bridge/door-bus.ts';
import type { AuditLog } from './audit-log.ts';
import type { Clock, Scheduler } from './ports.ts';

const RETRY_MS = 2000;

export class BoardWatch {
  private unsubscribe: (() => void) | null = null;
  private readonly waiting: { event: BoardEvent; atStartup: boolean }[] = [];
  private cancelRetry: (() => void) | null = null;
  /** When each board went silent (domain time), for the outage's length. */
  private readonly lostAt = new Map<string, number>();

  constructor(
    private readonly bus: DoorBus,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (!this.bus.onBoardEvent || !this.bus.boardHealth) return;
    const silent = this.bus.boardHealth().filter((h) => h.state === 'gone');
    for (const h of silent) {
      const event: BoardEvent = { kind: 'board_lost', board: h.id, address: h.address, port: h.port, at: this.clock.now(), compartments: h.compartments, reason: h.lastError ?? 'no reply' };
      this.waiting.push({ event, atStartup: true });
    }
    this.unsubscribe = this.bus.onBoardEvent((event) => {
      this.waiting.push({ event, atStartup: false });
      this.flush();
    });
    this.flush();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cancelRetry?.();
    this.cancelRetry = null;
  }

  private flush(): void {
    while (this.waiting.length > 0) {
      const { event, atStartup } = this.waiting[0]!;
      try {
        this.record(event, atStartup);
      } catch (err) {
        this.log.error({ err, board: event.board, kind: event.kind }, 'board event not recorded yet; will retry');
        this.cancelRetry ??= this.scheduler.after(RETRY_MS, () => {
          this.cancelRetry = null;
          this.flush();
        });
        return;
      }
      this.waiting.shift();
    }
  }

  private record(event: BoardEvent, atStartup: boolean): void {
    const details = { board: event.board, address: event.address, port: event.port, compartments: event.compartments };
    if (event.kind === 'board_lost') {
      this.lostAt.set(event.board, this.clock.now());
      this.audit.append({ type: 'board.lost', actor: 'system', data: { ...details, reason: event.reason ?? 'no reply', ...(atStartup ? { atStartup: true } : {}) } });
      this.log.error({ ...details, reason: event.reason }, 'lock board lost: its doors are in fault until it answers');
      return;
    }
    const since = this.lostAt.get(event.board);
    this.lostAt.delete(event.board);
    const downSec = since === undefined ? undefined : Math.round((this.clock.now() - since) / 1000);
    this.audit.append({ type: 'board.recovered', actor: 'system', data: { ...details, ...(downSec === undefined ? {} : { downSec }) } });
    this.log.info({ ...details, downSec }, 'lock board answering again');
  }
}
