// Kerong CU12 type boards (12 locks; the same frame on many 48-channel "CU" boards): 19200 8N1,
// boards 0-15. Requests and replies share one layout, `02 ADDR LOCK CMD ASK DATALEN 03 SUM DATA…`,
// with the data AFTER the checksum and SUM the low byte of the sum of every byte, 02, 03 and the
// data included (Kerong's CU12 spec). LOCK is 0-11 for locks 1-12. 0x81 releases a lock (the board
// times it) and answers with ASK only: 0x10 done, 0x11 failed, 0x12 timeout, 0x13 unknown command,
// 0x14 checksum error. 0x80 reads the board: two data bytes, locks 1-8 (bit 0 = lock 1) and 9-12.
// The bit's meaning (Kerong: 1 = locked; another driver: 1 = unlocked) is the board's `closedBit`.
// Some 48-channel boards speak another framing altogether (0x60/0x61/0x75): `locker hw scan`
// tells them apart; this module speaks the CU12 one only.
import type { Exchange, LockBoardProtocol } from './protocol.ts';

export const CU12_UNLOCK = 0x81;
export const CU12_STATUS = 0x80;
export const CU12_OK = 0x10;

const ASK_TEXT: Record<number, string> = { 0x11: 'failed', 0x12: 'timed out', 0x13: 'unknown command', 0x14: 'checksum error' };

export class Cu12RefusedError extends Error {
  constructor(readonly ask: number) {
    super(`the board answered ${ASK_TEXT[ask] ?? `ASK 0x${ask.toString(16)}`}`);
  }
}

function sum(bytes: number[]): number {
  return bytes.reduce((a, b) => a + b, 0) & 0xff;
}

export function cu12Frame(addr: number, lock: number, cmd: number, ask = 0, data: number[] = []): Buffer {
  const head = [0x02, addr, lock, cmd, ask, data.length, 0x03];
  return Buffer.from([...head, sum([...head, ...data]), ...data]);
}

export interface Cu12Reply {
  addr: number;
  lock: number;
  cmd: number;
  ask: number;
  data: Buffer;
}

export function parseCu12(buf: Buffer, addr: number, cmd: number) {
  if (buf.length < 1) return { status: 'incomplete' as const };
  if (buf[0] !== 0x02) return { status: 'bad' as const, used: 1, reason: 'no STX' };
  if (buf.length < 8) return { status: 'incomplete' as const };
  const len = 8 + buf[5]!;
  if (buf[6] !== 0x03 || buf[5]! > 40) return { status: 'bad' as const, used: 1, reason: 'not a CU12 frame' };
  if (buf.length < len) return { status: 'incomplete' as const };
  const f = buf.subarray(0, len);
  if (f[7] !== sum([...f.subarray(0, 7), ...f.subarray(8)])) return { status: 'bad' as const, used: 1, reason: 'bad checksum' };
  if (f[1] !== addr || f[3] !== cmd) return { status: 'bad' as const, used: len, reason: 'another board or command' };
  const reply: Cu12Reply = { addr: f[1]!, lock: f[2]!, cmd: f[3]!, ask: f[4]!, data: Buffer.from(f.subarray(8)) };
  return { status: 'frame' as const, used: len, frame: reply };
}

function checkBoard(board: number, lock?: number): void {
  if (!Number.isInteger(board) || board < 0 || board > 15) throw new RangeError(`CU12 board address must be 0-15, got ${board}`);
  if (lock !== undefined && (!Number.isInteger(lock) || lock < 1 || lock > 12)) throw new RangeError(`CU12 lock must be 1-12, got ${lock}`);
}

export const kerongCu12: LockBoardProtocol = {
  name: 'kr-cu12',
  defaultBaud: 19200,
  addresses: { min: 0, max: 15 },
  maxChannels: 12,
  pulse: 'board',
  unlock(board, lock): Exchange<unknown> {
    checkBoard(board, lock);
    return {
      frame: cu12Frame(board, lock - 1, CU12_UNLOCK),
      parse: (buf) => {
        const r = parseCu12(buf, board, CU12_UNLOCK);
        if (r.status === 'frame' && r.frame.ask !== CU12_OK) throw new Cu12RefusedError(r.frame.ask);
        return r;
      },
    };
  },
  readFeedback(board, channels): Exchange<boolean[]> {
    checkBoard(board);
    return {
      frame: cu12Frame(board, 0, CU12_STATUS),
      parse: (buf) => {
        const r = parseCu12(buf, board, CU12_STATUS);
        if (r.status !== 'frame') return r;
        if (r.frame.ask !== CU12_OK) throw new Cu12RefusedError(r.frame.ask);
        const d = r.frame.data;
        return { status: 'frame', used: r.used, frame: Array.from({ length: channels }, (_, i) => (((d[i >> 3] ?? 0) >> (i & 7)) & 1) === 1) };
      },
    };
  },
};
