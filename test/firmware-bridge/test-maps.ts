// Small locker maps for driver tests: the header, an expander with its interrupt wired and one
// without (whose sensors must be polled).
import { parseLockerMap } from '../../locker-map/load.ts';
import type { LockerMap } from '../../locker-map/schema.ts';

export function smallMap(pulseMs = 400, gapMs = 250): LockerMap {
  return parseLockerMap({
    version: 1,
    name: 'test bank',
    location: 'bench',
    locks: { pulseMs, gapMs },
    expanders: [
      { id: 'exp20', type: 'mcp23017', address: 0x20, interrupt: false },
      { id: 'exp21', type: 'mcp23017', address: 0x21, interrupt: true, interruptPin: 22 },
    ],
    compartments: [
      // 1: header relay (active low, like most opto relay boards), header sensor
      { number: 1, size: 'S', column: 1, row: 1, lock: { chip: 'header', offset: 17, activeLevel: 'low' }, sensor: { chip: 'header', offset: 27, pull: 'up', closedLevel: 'low' } },
      // 2: expander relay, sensor on the expander without interrupt (polled)
      { number: 2, size: 'M', column: 1, row: 2, lock: { chip: 'exp20', offset: 0, activeLevel: 'high' }, sensor: { chip: 'exp20', offset: 8, pull: 'up', closedLevel: 'low' } },
      // 3: expander relay, sensor on the expander with interrupt
      { number: 3, size: 'L', column: 1, row: 3, lock: { chip: 'exp20', offset: 1, activeLevel: 'high' }, sensor: { chip: 'exp21', offset: 0, pull: 'up', closedLevel: 'low' } },
    ],
  });
}
