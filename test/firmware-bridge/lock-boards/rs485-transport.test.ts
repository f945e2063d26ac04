import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectReply, parseReply, readBits, withCrc, writeCoil } from '../../../firmware-bridge/lock-boards/modbus-rtu.ts';
import { BoardTimeoutError, BusClosedError, Rs485Transport, type SerialLink } from '../../../firmware-bridge/lock-boards/rs485-transport.ts';

/** A serial port the test plays the boards behind: it sees every frame written, and answers by hand. */
class WireLink implements SerialLink {
  readonly written: Buffer[] = [];
  private data: (d: Buffer) => void = () => {};
  private closed: (err?: Error | null) => void = () => {};
  write(data: Buffer, cb?: (err?: Error | null) => void) {
    this.written.push(Buffer.from(data));
    queueMicrotask(() => cb?.(null));
    return true;
  }
  on(event: 'data' | 'close', fn: (arg: never) => void) {
    if (event === 'data') this.data = fn as (d: Buffer) => void;
    else this.closed = fn as () => void;
    return this;
  }
  answer(bytes: Buffer) {
    this.data(bytes);
  }
  unplug() {
    this.closed(new Error('disconnected'));
  }
}

const opts = { timeoutMs: 100, retries: 2, gapMs: 5 };
const modbus = (req: Buffer) => (buf: Buffer) => parseReply(buf, expectReply(req));

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('an RS485 bus', () => {
  it('keeps one request in flight: the next goes out only after the answer and a quiet gap', async () => {
    const link = new WireLink();
    const bus = new Rs485Transport(link, opts);
    const a = writeCoil(1, 0, true);
    const b = writeCoil(2, 0, true);
    const first = bus.request(a, modbus(a));
    const second = bus.request(b, modbus(b));
    await vi.advanceTimersByTimeAsync(1);
    expect(link.written).toEqual([a]);
    link.answer(a);
    await expect(first).resolves.toMatchObject({ kind: 'written', address: 1 });
    await vi.advanceTimersByTimeAsync(4);
    expect(link.written).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(link.written).toEqual([a, b]);
    link.answer(b);
    await expect(second).resolves.toMatchObject({ address: 2 });
  });

  it('sends a request again when the board is silent, and gives up after its retries', async () => {
    const link = new WireLink();
    const bus = new Rs485Transport(link, opts);
    const req = readBits(5, 2, 0, 8);
    const r = bus.request(req, modbus(req));
    const failed = expect(r).rejects.toBeInstanceOf(BoardTimeoutError);
    await vi.advanceTimersByTimeAsync(400);
    await failed;
    expect(link.written).toHaveLength(3);
    expect(bus.stats).toMatchObject({ requests: 1, answered: 0, timeouts: 1, retries: 2 });
  });

  it('drops a reply with a bad checksum, counts it, and takes the good one of the retry', async () => {
    const link = new WireLink();
    const bus = new Rs485Transport(link, opts);
    const req = readBits(1, 2, 0, 8);
    const r = bus.request(req, modbus(req));
    await vi.advanceTimersByTimeAsync(1);
    const good = withCrc([1, 2, 1, 0x04]);
    const bad = Buffer.from(good);
    bad[4] ^= 0x01;
    link.answer(bad);
    await vi.advanceTimersByTimeAsync(106);
    expect(link.written).toHaveLength(2);
    link.answer(good.subarray(0, 3));
    link.answer(good.subarray(3));
    await expect(r).resolves.toMatchObject({ kind: 'bits', bits: [false, false, true, false, false, false, false, false] });
    expect(bus.stats.badFrames).toBeGreaterThanOrEqual(1);
    expect(bus.stats.retries).toBe(1);
  });

  it('fails what is queued when the adapter is unplugged, and refuses new requests', async () => {
    const link = new WireLink();
    const bus = new Rs485Transport(link, opts);
    const a = writeCoil(1, 0, true);
    const r1 = bus.request(a, modbus(a));
    const r2 = bus.request(a, modbus(a));
    const both = Promise.all([expect(r1).rejects.toBeInstanceOf(BusClosedError), expect(r2).rejects.toBeInstanceOf(BusClosedError)]);
    link.unplug();
    await both;
    await expect(bus.request(a, modbus(a))).rejects.toThrow(/disconnected/);
  });
});
