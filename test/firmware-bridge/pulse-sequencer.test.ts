import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HARD_MAX_PULSE_MS, PulseSequencer, PulseSequencerClosed, realTimers } from '../../firmware-bridge/pulse-sequencer.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function recorder() {
  const log: { n: number; on: boolean; at: number }[] = [];
  let live = 0;
  let maxLive = 0;
  return {
    log,
    maxLive: () => maxLive,
    lines: {
      setRelay(n: number, on: boolean) {
        live += on ? 1 : -1;
        maxLive = Math.max(maxLive, live);
        log.push({ n, on, at: Date.now() });
      },
    },
  };
}

describe('pulse sequencer', () => {
  it('energises one lock at a time, in request order, with the gap between pulses, under 20 concurrent requests', async () => {
    const r = recorder();
    const seq = new PulseSequencer(r.lines, { pulseMs: 400, gapMs: 250 }, realTimers);
    const t0 = Date.now();
    const order = Array.from({ length: 20 }, (_, i) => 20 - i);
    const started = order.map((n) => seq.pulse(n));
    await vi.advanceTimersByTimeAsync(20 * 650);
    const at = await Promise.all(started);
    expect(r.maxLive()).toBe(1);
    expect(r.log.filter((e) => e.on).map((e) => e.n)).toEqual(order);
    for (let i = 0; i < 20; i++) {
      expect(at[i] - t0).toBe(i * 650);
      const on = r.log[2 * i];
      const off = r.log[2 * i + 1];
      expect(off.at - on.at).toBe(400);
      if (i > 0) expect(on.at - r.log[2 * i - 1].at).toBe(250);
    }
  });

  it('never holds a lock longer than the hard upper bound, whatever the configuration says', async () => {
    const r = recorder();
    const seq = new PulseSequencer(r.lines, { pulseMs: 60_000, gapMs: 0 }, realTimers);
    void seq.pulse(3);
    await vi.advanceTimersByTimeAsync(HARD_MAX_PULSE_MS - 1);
    expect(seq.energised()).toEqual([3]);
    await vi.advanceTimersByTimeAsync(1);
    expect(seq.energised()).toEqual([]);
    expect(r.log.at(-1)).toMatchObject({ n: 3, on: false });
  });

  it('on close, cuts the pulse in progress short and refuses the queued ones', async () => {
    const r = recorder();
    const seq = new PulseSequencer(r.lines, { pulseMs: 1000, gapMs: 500 }, realTimers);
    const first = seq.pulse(1);
    const second = seq.pulse(2);
    second.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(100);
    await first;
    expect(seq.energised()).toEqual([1]);
    await seq.close();
    expect(seq.energised()).toEqual([]);
    expect(Date.now()).toBeLessThan(1000 + r.log[0].at);
    await expect(second).rejects.toBeInstanceOf(PulseSequencerClosed);
    expect(r.log.map((e) => `${e.n}${e.on ? '+' : '-'}`)).toEqual(['1+', '1-']);
  });

  it('releases a relay whose line failed half-way and reports the failure', async () => {
    const log: string[] = [];
    const seq = new PulseSequencer(
      {
        setRelay(n, on) {
          log.push(`${n}${on ? '+' : '-'}`);
          if (on) throw new Error('EIO');
        },
      },
      { pulseMs: 100, gapMs: 0 },
      realTimers,
    );
    await expect(seq.pulse(4)).rejects.toThrow('EIO');
    expect(log).toEqual(['4+', '4-']);
    expect(seq.energised()).toEqual([]);
  });
});
