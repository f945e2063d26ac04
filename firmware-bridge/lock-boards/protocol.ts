// What the serial door driver asks of a lock board, whatever its protocol: release one lock, and
// read the feedback bits of all its channels in one exchange. Each protocol module turns these into
// its own frames and reads its own replies; the driver does queueing, timing, polling and faults.
import type { ReplyParse } from './rs485-transport.ts';

/** One request and how to read its reply. */
export interface Exchange<T> {
  frame: Buffer;
  parse: ReplyParse<T>;
  /** The board sends no reply to this frame (or one not worth waiting for): written, then done. */
  noReply?: boolean;
}

export interface LockBoardProtocol {
  readonly name: string;
  /** The speed boards of this kind ship with (8N1 throughout). */
  readonly defaultBaud: number;
  /** Addresses a board of this kind can be set to. */
  readonly addresses: { min: number; max: number };
  /** Channels (locks) one board drives at most. */
  readonly maxChannels: number;
  /**
   * How a lock is released: `board` = one command and the board times the solenoid itself;
   * `driver` = the driver switches the output on and, after the pulse, off again.
   */
  readonly pulse: 'board' | 'driver';
  /** With pulse `board`: the command. With `driver`: switch the output on. */
  unlock(address: number, channel: number, pulseMs: number): Exchange<unknown>;
  /** With pulse `driver`: switch the output off (also used to drive every output off at start). */
  lockOff?(address: number, channel: number): Exchange<unknown>;
  /** Every output of the board off, in one exchange where the protocol has one. */
  allOff?(address: number, channels: number): Exchange<unknown>;
  /** The raw feedback bit of channels 1..`channels` (index 0 = channel 1); polarity is the board's setting. */
  readFeedback(address: number, channels: number): Exchange<boolean[]>;
}

/** A reply accepted for its own sake (an unlock acknowledgement): the parser says it is the right one. */
export type Ack = { ok: true };
