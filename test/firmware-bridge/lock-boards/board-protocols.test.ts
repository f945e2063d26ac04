// The lock boards' frames against the examples of their public descriptions: Kerong's KR-CU16 and
// CU12 specifications, and the 8A/80 boards' documented frames (qiwenming/QwmLockDemo, Open-Locker).
import { describe, expect, it } from 'vitest';
import { board8a80 } from '../../../firmware-bridge/lock-boards/board-8a80.ts';
import { Cu12RefusedError, kerongCu12 } from '../../../firmware-bridge/lock-boards/kerong-cu12.ts';
import { kerongCu16, parseCu16Status } from '../../../firmware-bridge/lock-boards/kerong-cu16.ts';

const hex = (b: Buffer) => b.toString('hex').replace(/(..)/g, '$1 ').trim();
const bytes = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const on = (bits: boolean[]) => bits.flatMap((b, i) => (b ? [i + 1] : []));

describe('Kerong KR-CU16 frames', () => {
  it('releases lock 3 of board 0 and asks board 0 for its state, as the spec writes them', () => {
    expect(hex(kerongCu16.unlock(0, 3, 400).frame)).toBe('02 02 31 03 38');
    expect(hex(kerongCu16.readFeedback(0, 16).frame)).toBe('02 00 30 03 35');
    expect(hex(kerongCu16.unlock(1, 16, 400).frame)).toBe('02 1f 31 03 55');
  });

  it("reads the spec's state replies: lock hooks and item sensors, lock 1 in bit 0", () => {
    expect(parseCu16Status(bytes('02 00 35 01 00 01 00 03 3C'), 0)).toMatchObject({ status: 'frame', used: 9 });
    // The spec's all-boards examples (0x36), as the one-board reply (0x35) they share a layout with.
    const r = parseCu16Status(bytes('02 00 35 00 03 01 00 03 3E'), 0);
    expect(r.status === 'frame' && [on(r.frame.hooks), on(r.frame.items)]).toEqual([[9, 10], [1]]);
    const b1 = kerongCu16.readFeedback(1, 16).parse(bytes('02 10 35 01 00 00 08 03 53'));
    expect(b1.status === 'frame' && on(b1.frame as boolean[])).toEqual([1]);
  });

  it('rejects a reply with a bad checksum or from another board', () => {
    expect(parseCu16Status(bytes('02 00 35 01 00 01 00 03 3D'), 0)).toMatchObject({ status: 'bad', reason: 'bad checksum' });
    expect(parseCu16Status(bytes('02 10 35 01 00 00 08 03 53'), 0)).toMatchObject({ status: 'bad' });
    expect(parseCu16Status(bytes('02 00 35 01'), 0)).toEqual({ status: 'incomplete' });
  });

  it('waits for no reply to an unlock (sources disagree whether one comes)', () => {
    expect(kerongCu16.unlock(0, 1, 400).noReply).toBe(true);
    expect(() => kerongCu16.unlock(10, 1, 400)).toThrow(/0-9/);
  });
});

describe('Kerong CU12 frames', () => {
  it("writes the spec's status and unlock requests, the data after the checksum", () => {
    expect(hex(kerongCu12.readFeedback(0, 12).frame)).toBe('02 00 00 80 00 00 03 85');
    expect(hex(kerongCu12.unlock(0, 3, 400).frame)).toBe('02 00 02 81 00 00 03 88');
  });

  it("reads the spec's status reply (lock 2 set) and an unlock done", () => {
    const r = kerongCu12.readFeedback(0, 12).parse(bytes('02 00 00 80 10 02 03 99 02 00'));
    expect(r.status === 'frame' && on(r.frame as boolean[])).toEqual([2]);
    expect(kerongCu12.readFeedback(1, 12).parse(bytes('02 01 00 80 10 02 03 9C 04 00'))).toMatchObject({ status: 'frame', used: 10 });
    expect(kerongCu12.unlock(0, 3, 400).parse(bytes('02 00 02 81 10 00 03 98'))).toMatchObject({ status: 'frame', used: 8 });
  });

  it('takes a failed unlock as the board refusing, and a bad checksum as no reply', () => {
    expect(() => kerongCu12.unlock(0, 3, 400).parse(bytes('02 00 02 81 11 00 03 99'))).toThrow(Cu12RefusedError);
    expect(kerongCu12.readFeedback(0, 12).parse(bytes('02 00 00 80 10 02 03 98 02 00'))).toMatchObject({ status: 'bad', reason: 'bad checksum' });
    expect(kerongCu12.readFeedback(0, 12).parse(bytes('02 00 00 80 10 02 03 99 02'))).toEqual({ status: 'incomplete' });
  });
});

describe('8A/80 board frames', () => {
  it('writes open and query-all with the XOR of every byte before it', () => {
    expect(hex(board8a80.unlock(1, 1, 400).frame)).toBe('8a 01 01 11 9b');
    expect(hex(board8a80.unlock(1, 2, 400).frame)).toBe('8a 01 02 11 98');
    expect(hex(board8a80.readFeedback(1, 24).frame)).toBe('80 01 00 33 b2');
    expect(hex(board8a80.readFeedback(2, 24).frame)).toBe('80 02 00 33 b1');
  });

  it('reads 3- and 4-byte status replies, locks 1-8 in the last byte', () => {
    const r3 = board8a80.readFeedback(1, 24).parse(bytes('80 01 01 01 01 33 B3'));
    expect(r3.status === 'frame' && on(r3.frame as boolean[])).toEqual([1, 9, 17]);
    const r4 = board8a80.readFeedback(1, 32).parse(bytes('80 01 FF FF FF FF 33 B2'));
    expect(r4.status === 'frame' && (r4.frame as boolean[]).length).toBe(32);
    const r8 = board8a80.readFeedback(1, 8).parse(bytes('80 01 00 00 00 33 B2'));
    expect(r8).toMatchObject({ status: 'frame', used: 7, frame: new Array(8).fill(false) });
  });

  it('accepts the unlock reply whatever its status byte, and nothing from another lock', () => {
    expect(board8a80.unlock(1, 1, 400).parse(bytes('8A 01 01 00 8A'))).toMatchObject({ status: 'frame' });
    expect(board8a80.unlock(1, 1, 400).parse(bytes('8A 01 01 11 9B'))).toMatchObject({ status: 'frame' });
    expect(board8a80.unlock(1, 1, 400).parse(bytes('8A 01 02 11 98'))).toMatchObject({ status: 'bad' });
  });

  it('rejects a status reply with a bad XOR once it cannot be a longer one', () => {
    expect(board8a80.readFeedback(1, 24).parse(bytes('80 01 01 01 01 33 B4'))).toEqual({ status: 'incomplete' });
    expect(board8a80.readFeedback(1, 24).parse(bytes('80 01 01 01 01 33 B4 00'))).toMatchObject({ status: 'bad' });
    expect(() => board8a80.unlock(0, 1, 400)).toThrow(/1-31/);
  });
});
