import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatHwTable, runHwTest, type HwTestItem } from '../../firmware-bridge/hw-test.ts';
import { realTimers } from '../../firmware-bridge/pulse-sequencer.ts';
import { PoppingBus } from './popping-bus.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const item = (n: number, skip?: string): HwTestItem => ({ compartment: n, lock: `exp20:${n - 1} high`, sensor: `exp21:${n - 1} pull-up`, skip });

describe('hw test', () => {
  it('pulses each lock in turn, waits for its sensor and reports what worked', async () => {
    const bus = new PoppingBus([1, 2, 3, 4, 5, 6], realTimers);
    bus.jammed.add(2);
    bus.stayOpen.add(3);
    bus.setDoor(4, true);
    await bus.start();
    const said: string[] = [];
    const pulsed: number[] = [];
    const run = runHwTest(bus, [item(1), item(2), item(3), item(4), item(5, 'holds dossier H-1')], {
      openWaitMs: 2000,
      closeWaitMs: 3000,
      timers: realTimers,
      say: (s) => said.push(s),
      beforePulse: (i) => pulsed.push(i.compartment),
    });
    await vi.advanceTimersByTimeAsync(20_000);
    const results = await run;
    expect(results.map((r) => [r.compartment, r.verdict])).toEqual([
      [1, 'ok'],
      [2, 'did not open'],
      [3, 'left open'],
      [4, 'was open'],
      [5, 'skipped'],
    ]);
    expect(results[0]).toMatchObject({ before: 'closed', pulsed: true, openedAfterMs: 150, closedAgain: true });
    expect(pulsed).toEqual([1, 2, 3]);
    expect(bus.relayLog.filter((r) => r.energised).map((r) => r.compartment)).toEqual([1, 2, 3]);
    expect(said).toContain('door 1 is open: shut it now');
    const table = formatHwTable(results);
    expect(table.split('\n')[0]).toMatch(/^door\s+lock\s+sensor\s+before\s+pulse\s+opened\s+shut\s+result$/);
    expect(table).toMatch(/^1\s+exp20:0 high\s+exp21:0 pull-up\s+closed\s+ok\s+0\.15 s\s+yes\s+ok$/m);
    expect(table).toMatch(/^2 .*DID NOT OPEN: no opening on exp21:1 pull-up/m);
    expect(table).toMatch(/^5 .*SKIPPED: holds dossier H-1$/m);
    expect(table).toMatch(/1 of 5 doors worked\.$/);
  });

  it('reports a sensor it cannot read instead of a door that did not open', async () => {
    const bus = new PoppingBus([1], realTimers);
    await bus.start();
    vi.spyOn(bus, 'doorState').mockReturnValue('unknown');
    const run = runHwTest(bus, [item(1)], { openWaitMs: 1000, closeWaitMs: 1000, timers: realTimers });
    await vi.advanceTimersByTimeAsync(5000);
    expect((await run)[0]).toMatchObject({ verdict: 'sensor unreadable', pulsed: true });
  });
});
