// `locker hw scan`: which lock boards answer on a port. For each protocol (at its factory speed
// unless told otherwise) every address the family allows is asked for its feedback, once, with a
// short timeout: a read only, never a release, so a scan opens no door whatever answers. What
// answered becomes a map skeleton the installer completes (sizes, columns, rows), with the
// feedback bits each board showed, which tell its polarity once every door is shut.
import { BOARD_LIMITS } from '../../locker-map/boards.ts';
import type { LockBoardDef } from '../../locker-map/schema.ts';
import type { TimerApi } from '../pulse-sequencer.ts';
import { realTimers } from '../pulse-sequencer.ts';
import { PROTOCOLS } from './bank.ts';
import { ModbusRefusedError } from './modbus-board.ts';
import { Rs485Transport } from './rs485-transport.ts';
import type { OpenPort } from './serial-board-bus.ts';

export type ScanProtocol = LockBoardDef['protocol'];

/** Both Modbus entries read alike: a scan asks once and says which to pick. */
export const SCAN_PROTOCOLS: ScanProtocol[] = ['kr-cu16', 'kr-cu12', '8a80', 'modbus'];

export interface FoundBoard {
  protocol: ScanProtocol;
  address: number;
  baud: number;
  /** The raw feedback bits it returned, channel 1 first. */
  bits: boolean[];
}

export interface ScanOptions {
  port: string;
  openPort(path: string, baud: number): Promise<OpenPort>;
  protocols?: ScanProtocol[];
  /** One speed for every protocol instead of each one's factory speed. */
  baud?: number;
  /** How long one address has to answer. */
  timeoutMs?: number;
  timers?: TimerApi;
  /** Each protocol as it starts, for a progress line. */
  progress?(protocol: ScanProtocol, baud: number, addresses: number): void;
}

export async function scanPort(opts: ScanOptions): Promise<FoundBoard[]> {
  const found: FoundBoard[] = [];
  for (const protocol of opts.protocols ?? SCAN_PROTOCOLS) {
    const limits = BOARD_LIMITS[protocol];
    const proto = PROTOCOLS[protocol];
    const baud = opts.baud ?? limits.baud;
    opts.progress?.(protocol, baud, limits.maxAddress - limits.minAddress + 1);
    const port = await opts.openPort(opts.port, baud);
    const transport = new Rs485Transport(port, { timeoutMs: opts.timeoutMs ?? 80, retries: 0, gapMs: 5 }, opts.timers ?? realTimers);
    try {
      for (let address = limits.minAddress; address <= limits.maxAddress; address++) {
        // A Modbus board with fewer inputs refuses a read of more (an exception reply: it is there),
        // so it is asked again for fewer. The other families always answer with all their bits.
        for (const count of protocol === 'modbus' ? [32, 16, 8, 4, 1] : [proto.maxChannels]) {
          const ex = proto.readFeedback(address, count);
          const answer = await transport.request(ex.frame, ex.parse).then(
            (bits) => ({ bits }),
            (err: Error) => ({ refused: err instanceof ModbusRefusedError }),
          );
          if ('bits' in answer) {
            found.push({ protocol, address, baud, bits: answer.bits });
            break;
          }
          if (!answer.refused) break;
        }
      }
    } finally {
      transport.close('scan done');
      await new Promise<void>((r) => port.close(() => r()));
    }
  }
  return found;
}

/** What the bits say about polarity, read with every door shut. */
export function polarityHint(bits: boolean[]): 'set-when-closed' | 'set-when-open' | null {
  if (bits.every(Boolean)) return 'set-when-closed';
  if (!bits.some(Boolean)) return 'set-when-open';
  return null;
}

/** A map skeleton for what answered: one compartment per channel, lock and feedback on it. */
export function mapSkeleton(port: string, found: FoundBoard[]): Record<string, unknown> {
  let number = 0;
  const boards = found.map((b, i) => {
    const feedback = polarityHint(b.bits);
    return {
      id: `b${i}`,
      protocol: b.protocol,
      port,
      ...(b.baud !== BOARD_LIMITS[b.protocol].baud ? { baud: b.baud } : {}),
      address: b.address,
      channels: b.bits.length,
      ...(feedback ? { feedback } : {}),
    };
  });
  const compartments = found.flatMap((b, i) =>
    b.bits.map((_, c) => {
      number++;
      return { number, size: 'M', column: i + 1, row: c + 1, lock: { board: `b${i}`, channel: c + 1 }, sensor: { board: `b${i}`, channel: c + 1 } };
    }),
  );
  return { version: 1, name: 'ATM hồ sơ 24/7', location: 'Bộ phận Một cửa', locks: { pulseMs: 500, gapMs: 300 }, boards, compartments };
}
