// The locker map's lines as the drivers need them: which chip, which offset, and the physical
// value (0/1) for "locked", "energised" and "door shut". Shared by the drivers, `hw boot-config`
// and `hw test`, so every tool agrees on what a level means.
import { LockerMapError } from '../locker-map/load.ts';
import { onBoard, type LockerMap } from '../locker-map/schema.ts';

export type Bit = 0 | 1;
export type Bias = 'up' | 'down' | 'none';

export interface ChipDef {
  /** "header" or the expander's id from the map. */
  id: string;
  kind: 'header' | 'mcp23017';
  i2cBus?: number;
  address?: number;
  /** The chip raises edge interrupts: the header always, an expander only with INTA wired. */
  edges: boolean;
}

export interface LockLineDef {
  compartment: number;
  chip: string;
  offset: number;
  activeValue: Bit;
  lockedValue: Bit;
}

export interface SensorLineDef {
  compartment: number;
  chip: string;
  offset: number;
  bias: Bias;
  closedValue: Bit;
}

export interface BankLines {
  chips: Map<string, ChipDef>;
  locks: LockLineDef[];
  sensors: SensorLineDef[];
}

const bit = (level: 'high' | 'low'): Bit => (level === 'high' ? 1 : 0);

export interface BankOptions {
  /**
   * Real hardware: every lock must state its activeLevel and every sensor its closedLevel. A
   * guessed relay level would energise every lock at start, which opens every door.
   */
  strict?: boolean;
  /** Leave out locks and sensors on RS485 lock boards (`hw boot-config` of a board cabinet) instead of refusing them. */
  skipBoards?: boolean;
}

export function bankLines(map: LockerMap, opts: BankOptions = {}): BankLines {
  const chips = new Map<string, ChipDef>();
  chips.set('header', { id: 'header', kind: 'header', edges: true });
  for (const e of map.expanders) {
    chips.set(e.id, { id: e.id, kind: 'mcp23017', i2cBus: e.i2cBus ?? 1, address: e.address, edges: e.interrupt === true });
  }
  const locks: LockLineDef[] = [];
  const sensors: SensorLineDef[] = [];
  map.compartments.forEach((c, i) => {
    const lock = c.lock;
    const sensor = c.sensor;
    for (const [kind, ref] of [['lock', lock], ['sensor', sensor]] as const) {
      if (onBoard(ref) && !opts.skipBoards) {
        throw new LockerMapError(`compartments.${i}.${kind}`, `is on lock board "${ref.board}", which GPIO tools and drivers cannot reach (LOCKER_DOORS=serial drives lock boards)`);
      }
    }
    // With skipBoards, a mixed cabinet keeps its GPIO lines: a door sensor on the header beside a
    // lock on a board is the GPIO driver's to read.
    if (!onBoard(lock)) {
      if (opts.strict && !lock.activeLevel) {
        throw new LockerMapError(
          `compartments.${i}.lock.activeLevel`,
          'state the level that energises the relay ("high" or "low"): a wrong guess unlocks every door at start',
        );
      }
      const active = bit(lock.activeLevel ?? 'high');
      locks.push({ compartment: c.number, chip: lock.chip, offset: lock.offset, activeValue: active, lockedValue: active === 1 ? 0 : 1 });
    }
    if (!onBoard(sensor)) {
      if (opts.strict && !sensor.closedLevel) {
        throw new LockerMapError(`compartments.${i}.sensor.closedLevel`, 'state the level the sensor reads while the door is shut ("high" or "low")');
      }
      sensors.push({
        compartment: c.number,
        chip: sensor.chip,
        offset: sensor.offset,
        bias: sensor.pull ?? 'up',
        closedValue: bit(sensor.closedLevel ?? 'low'),
      });
    }
  });
  return { chips, locks, sensors };
}

/** "header:17" / "exp20:3": how tools and logs name a line. */
export function lineName(chip: string, offset: number): string {
  return chip === 'header' ? `BCM${offset}` : `${chip}:${offset}`;
}

export function groupBy<T, K>(items: T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}
