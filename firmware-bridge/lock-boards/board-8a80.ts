// The common "8A/80" lock boards: 9600 8N1, boards 1-31 on a bus (DIP switch), every frame closed
// by the XOR of all bytes before it. `8A BB LL 11 X` releases lock LL (1-based) on board BB, and
// the board answers `8A BB LL SS X` about half a second later (SS 0x11 or 0x00, whose meaning
// depends on the lock's feedback contact: the door's state is read by the next poll instead).
// `80 BB 00 33 X` reads every lock: `80 BB S1…Sn 33 X`, n = 3 or 4 by board size, the LAST status
// byte holding locks 1-8 (bit 0 = lock 1), the one before it 9-16, and so on. A set bit means
// closed on some locks and open on others: the board's `closedBit` setting. Boards also send
// `82 BB LL SS X` by themselves when a door changes; the driver polls, so those are stray bytes.
import type { Exchange, LockBoardProtocol } from './protocol.ts';

export function xor(bytes: Iterable<number>): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

function frame(body: number[]): Buffer {
  return Buffer.from([...body, xor(body)]);
}

function checkBoard(board: number, lock?: number): void {
  if (!Number.isInteger(board) || board < 1 || board > 31) throw new RangeError(`8A/80 board address must be 1-31, got ${board}`);
  if (lock !== undefined && (!Number.isInteger(lock) || lock < 1 || lock > 32)) throw new RangeError(`8A/80 lock must be 1-32, got ${lock}`);
}

/** Status byte counts tried, most common first (24- and 32-lock boards; smaller ones answer 3). */
const STATUS_SIZES = [3, 4, 2, 1];

export function parseQueryAll(buf: Buffer, board: number) {
  if (buf.length < 1) return { status: 'incomplete' as const };
  if (buf[0] !== 0x80) return { status: 'bad' as const, used: 1, reason: 'not a status frame' };
  if (buf.length < 2) return { status: 'incomplete' as const };
  if (buf[1] !== board) return { status: 'bad' as const, used: 1, reason: `status of board ${buf[1]}, expected ${board}` };
  for (const n of STATUS_SIZES) {
    const len = n + 4;
    if (buf.length < len) continue;
    if (buf[n + 2] === 0x33 && buf[n + 3] === xor(buf.subarray(0, n + 3))) {
      const status = buf.subarray(2, 2 + n);
      const bits = Array.from({ length: n * 8 }, (_, i) => ((status[n - 1 - (i >> 3)]! >> (i & 7)) & 1) === 1);
      return { status: 'frame' as const, used: len, frame: bits };
    }
  }
  if (buf.length < Math.max(...STATUS_SIZES) + 4) return { status: 'incomplete' as const };
  return { status: 'bad' as const, used: 1, reason: 'bad checksum' };
}

export const board8a80: LockBoardProtocol = {
  name: '8a80',
  defaultBaud: 9600,
  addresses: { min: 1, max: 31 },
  maxChannels: 32,
  pulse: 'board',
  unlock(board, lock): Exchange<unknown> {
    checkBoard(board, lock);
    return {
      frame: frame([0x8a, board, lock, 0x11]),
      parse: (buf) => {
        if (buf[0] !== 0x8a) return buf.length ? { status: 'bad', used: 1, reason: 'not an unlock reply' } : { status: 'incomplete' };
        if (buf.length < 5) return { status: 'incomplete' };
        if (buf[1] !== board || buf[2] !== lock || buf[4] !== xor(buf.subarray(0, 4))) return { status: 'bad', used: 1, reason: 'not the reply of this lock' };
        return { status: 'frame', used: 5, frame: { ok: true } };
      },
    };
  },
  readFeedback(board, channels): Exchange<boolean[]> {
    checkBoard(board);
    return {
      frame: frame([0x80, board, 0x00, 0x33]),
      parse: (buf) => {
        const r = parseQueryAll(buf, board);
        return r.status === 'frame' ? { ...r, frame: r.frame.slice(0, channels) } : r;
      },
    };
  },
};
