// Kerong KR-CU16 type boards: 16 locks each, up to 10 boards on a bus (board number on a DIP
// switch), 19200 8N1. Frames are `02 ADDR CMD [DATA] 03 SUM`, ADDR = board << 4 | (lock - 1), SUM the
// low byte of the sum of every byte before it, 02 and 03 included. 0x31 releases one lock (the
// board times the solenoid itself, 550 ms by default); 0x30 asks one board for its state and it
// answers `02 ADDR 35 D1 D2 D3 D4 03 SUM`: D1 = lock hooks 1-8 (bit 0 = lock 1), D2 = 9-16, D3/D4 the
// infrared item sensors. The hook bit's meaning depends on the lock's switch (Kerong's own spec
// says 1 = locked and warns it may be reversed; other drivers read 1 = unlocked): the board's
// `closedBit` setting, which `locker hw test` confirms. Whether a board answers an unlock at all
// also differs between sources, so an unlock waits for nothing; its effect is read by the next poll.
import type { Exchange, LockBoardProtocol } from './protocol.ts';

export const CU16_STX = 0x02;
export const CU16_ETX = 0x03;
export const CU16_UNLOCK = 0x31;
export const CU16_STATUS = 0x30;
export const CU16_STATUS_REPLY = 0x35;

function sum(bytes: number[]): number {
  return bytes.reduce((a, b) => a + b, 0) & 0xff;
}

export function cu16Frame(addr: number, cmd: number, data: number[] = []): Buffer {
  const body = [CU16_STX, addr, cmd, ...data, CU16_ETX];
  return Buffer.from([...body, sum(body)]);
}

function checkBoard(board: number, lock?: number): void {
  if (!Number.isInteger(board) || board < 0 || board > 9) throw new RangeError(`KR-CU16 board number must be 0-9, got ${board}`);
  if (lock !== undefined && (!Number.isInteger(lock) || lock < 1 || lock > 16)) throw new RangeError(`KR-CU16 lock must be 1-16, got ${lock}`);
}

/** The state reply of `board`: lock-hook bits 1-16 and item-sensor bits 1-16. */
export function parseCu16Status(buf: Buffer, board: number) {
  if (buf.length < 1) return { status: 'incomplete' as const };
  if (buf[0] !== CU16_STX) return { status: 'bad' as const, used: 1, reason: 'no STX' };
  if (buf.length < 9) return { status: 'incomplete' as const };
  const f = buf.subarray(0, 9);
  if (f[1] !== board << 4 || f[2] !== CU16_STATUS_REPLY || f[7] !== CU16_ETX) return { status: 'bad' as const, used: 1, reason: 'not the status of this board' };
  if (f[8] !== sum([...f.subarray(0, 8)])) return { status: 'bad' as const, used: 1, reason: 'bad checksum' };
  const bits = (lo: number, hi: number) => Array.from({ length: 16 }, (_, i) => (((i < 8 ? lo : hi) >> (i & 7)) & 1) === 1);
  return { status: 'frame' as const, used: 9, frame: { hooks: bits(f[3]!, f[4]!), items: bits(f[5]!, f[6]!) } };
}

export const kerongCu16: LockBoardProtocol = {
  name: 'kr-cu16',
  defaultBaud: 19200,
  addresses: { min: 0, max: 9 },
  maxChannels: 16,
  pulse: 'board',
  unlock(board, lock): Exchange<unknown> {
    checkBoard(board, lock);
    return { frame: cu16Frame((board << 4) | (lock - 1), CU16_UNLOCK), parse: () => ({ status: 'incomplete' }), noReply: true };
  },
  readFeedback(board, channels): Exchange<boolean[]> {
    checkBoard(board);
    return {
      frame: cu16Frame(board << 4, CU16_STATUS),
      parse: (buf) => {
        const r = parseCu16Status(buf, board);
        return r.status === 'frame' ? { status: 'frame', used: r.used, frame: r.frame.hooks.slice(0, channels) } : r;
      },
    };
  },
};
