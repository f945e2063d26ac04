// What the dispatcher may know about a channel beyond `send`: where the point of no return is,
// what it reports back (message references, delivery), and whether it can send right now.
// Every part is optional, so a bare SmsChannel (tests, the file channel) still works.
import type { SmsChannel, SmsMessage } from '../domain/ports.ts';

export interface SendContext {
  /** Stable per queued message ("<locker>-<row id>"): gateways that deduplicate by it make retries safe. */
  id: string;
  /** 0-255, for concatenated parts. */
  ref: number;
  /**
   * Called synchronously right before the message irrevocably leaves the locker (the HTTP request is
   * made, the PDU written at the `>` prompt). A crash before it: nothing left, send again after a
   * restart. A crash after it: the message may be out, so it is not sent again automatically.
   */
  handover(): void;
}

export interface SendResult {
  /** Channel references for delivery reports (the modem's TP-MR of each part). */
  refs?: string[];
}

export interface DeliveryReport {
  ref: string;
  /** Local form 0xxxxxxxxx. */
  to: string;
  outcome: 'delivered' | 'failed' | 'pending';
  /** Channel wording, no personal data (e.g. "TP-ST 0x00"). */
  detail: string;
}

export type ChannelState = 'ok' | 'degraded' | 'down';

export interface ChannelHealth {
  state: ChannelState;
  /** Why it is not ok ("modem not connected", "SIM not ready", "not registered"...). */
  reason?: string;
  /** Channel-specific details for /healthz (no personal data). */
  [key: string]: unknown;
}

/** A superset of the domain's SmsChannel: any SmsChannel is one (with none of the extras). */
export interface ExtendedSmsChannel {
  readonly name: string;
  send(message: SmsMessage, ctx?: SendContext): Promise<SendResult | void>;
  /** The channel calls ctx.handover() itself; otherwise the dispatcher assumes handover at the start of send. */
  readonly reportsHandover?: boolean;
  /** The gateway deduplicates by ctx.id, so a message interrupted after handover may be sent again. */
  readonly idempotent?: boolean;
  /** Whether it can send now; false holds the queue without spending attempts. */
  available?(): boolean;
  health?(): ChannelHealth;
  onHealthChange?(fn: (h: ChannelHealth) => void): () => void;
  onDelivery?(fn: (r: DeliveryReport) => void): () => void;
  /** Opens devices in the background; never throws for a missing device. */
  start?(): void;
  close?(): Promise<void>;
}

export function extended(channel: SmsChannel): ExtendedSmsChannel {
  return channel as ExtendedSmsChannel;
}
