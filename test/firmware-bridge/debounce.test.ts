import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SensorTracker } from '../../firmware-bridge/debounce.ts';
import type { DoorEvent } from '../../firmware-bridge/door-bus.ts';
import { realTimers } from '../../firmware-bridge/pulse-sequencer.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function tracker(debounceMs = 30) {
  const events: DoorEvent[] = [];
  // closed = low (reed switch to ground, pull-up)
  const t = new SensorTracker(7, 0, debounceMs, realTimers, (e) => events.push(e));
  t.init(0);
  return { t, events };
}

describe('door sensor debounce', () => {
  it('ignores a reed switch bouncing for less than the debounce time', () => {
    const { t, events } = tracker();
    t.sample(1);
    vi.advanceTimersByTime(5);
    t.sample(0);
    vi.advanceTimersByTime(5);
    t.sample(1);
    vi.advanceTimersByTime(5);
    t.sample(0);
    vi.advanceTimersByTime(100);
    expect(events).toEqual([]);
    expect(t.state).toBe('closed');
  });

  it('reports an opening once the level has held for the debounce time, and only once', () => {
    const { t, events } = tracker();
    t.sample(1);
    vi.advanceTimersByTime(29);
    expect(events).toEqual([]);
    t.sample(1);
    vi.advanceTimersByTime(1);
    expect(events.map((e) => e.kind)).toEqual(['opened']);
    t.sample(1);
    vi.advanceTimersByTime(100);
    expect(events).toHaveLength(1);
    expect(t.state).toBe('open');
  });

  it('raises one sensor fault per episode, then reports the door again once it reads', () => {
    const { t, events } = tracker();
    t.fail('EIO');
    t.fail('EIO');
    t.fail('EIO');
    expect(events).toEqual([expect.objectContaining({ kind: 'sensor_fault', compartment: 7, reason: 'EIO' })]);
    expect(t.state).toBe('unknown');
    t.sample(0);
    vi.advanceTimersByTime(30);
    expect(events.map((e) => e.kind)).toEqual(['sensor_fault', 'closed']);
    t.fail('EIO again');
    expect(events.map((e) => e.kind)).toEqual(['sensor_fault', 'closed', 'sensor_fault']);
  });

  it('sets the state read at start without an event (the domain reconciles it)', () => {
    const events: DoorEvent[] = [];
    const t = new SensorTracker(1, 1, 30, realTimers, (e) => events.push(e));
    t.init(0);
    expect(t.state).toBe('open');
    t.init(null);
    expect(t.state).toBe('unknown');
    expect(events).toEqual([]);
  });
});
