// Turns "the channel cannot send" (modem unplugged or deaf, no SIM, not registered) into an alarm in
// the audit trail once it has lasted `alarmAfterMs`, and records when it is back. A short blip
// (a replug, a modem reboot) raises nothing. Whether an alarm is open survives restarts: it is read
// back from the trail, so a locker restarted mid-outage still records the recovery.
import type { Logger } from 'pino';
import type { Store } from '../db/store.ts';
import type { AuditLog } from '../domain/audit-log.ts';
import type { Scheduler } from '../domain/ports.ts';
import type { ExtendedSmsChannel } from './channel.ts';

export const MODEM_LOST = 'sms.modem_lost';
export const MODEM_RESTORED = 'sms.modem_restored';

export class ChannelWatch {
  private alarmed = false;
  private cancelTimer: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly channel: ExtendedSmsChannel,
    private readonly scheduler: Scheduler,
    private readonly log: Logger,
    private readonly alarmAfterMs: number,
  ) {}

  start(): void {
    if (!this.channel.available || !this.channel.onHealthChange) return;
    const last = this.store.db
      .prepare<[string, string], { type: string }>('SELECT type FROM audit_events WHERE type IN (?, ?) ORDER BY seq DESC LIMIT 1')
      .get(MODEM_LOST, MODEM_RESTORED);
    this.alarmed = last?.type === MODEM_LOST;
    this.unsubscribe = this.channel.onHealthChange(() => this.evaluate());
    this.evaluate();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private evaluate(): void {
    const ok = this.channel.available?.() !== false;
    if (ok) {
      this.cancelTimer?.();
      this.cancelTimer = null;
      if (this.alarmed) {
        this.alarmed = false;
        this.record(MODEM_RESTORED);
      }
      return;
    }
    if (this.alarmed || this.cancelTimer) return;
    this.cancelTimer = this.scheduler.after(this.alarmAfterMs, () => {
      this.cancelTimer = null;
      if (this.channel.available?.() !== false || this.alarmed) return;
      this.alarmed = true;
      this.record(MODEM_LOST);
    });
  }

  private record(type: string): void {
    const h = this.channel.health?.();
    try {
      this.store.tx(() =>
        this.audit.append({ type, actor: 'system', data: { channel: this.channel.name, state: h?.state ?? 'unknown', ...(h?.reason ? { reason: h.reason } : {}) } }),
      );
    } catch (err) {
      this.log.error({ err, type }, 'SMS channel alarm not recorded');
      return;
    }
    if (type === MODEM_LOST) this.log.error({ reason: h?.reason }, 'SMS channel lost: no SMS can be sent');
    else this.log.info('SMS channel back');
  }
}
