import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { appRoot } from './app-root.ts';
import { BoardChannel, LockLine, LockerMapSchema, onBoard, SensorLine, type LockerMap } from './schema.ts';
import { checkBoards } from './boards.ts';

export const EXAMPLE_MAP_PATH = join(appRoot(import.meta.url), 'locker-map', 'example.json');

export class LockerMapError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`locker map: ${field}: ${message}`);
  }
}

export interface MapCheckOptions {
  /** The serial modem sits on the header UART, so BCM 14/15 are taken. */
  uartInUse?: boolean;
}

const HEADER_MIN = 2;
const HEADER_MAX = 27;
const I2C_PINS = [2, 3];
const UART_PINS = [14, 15];
/** The mcp23017 overlay's interrupt pin when `gpiopin=` is not given. */
export const DEFAULT_INTERRUPT_PIN = 4;

/** True when a serial device sits on the header UART (BCM 14/15) rather than on USB. */
export function usesHeaderUart(device: string): boolean {
  return /^\/dev\/(serial[01]|ttyAMA\d+|ttyS0)$/.test(device);
}

function schemaError(schema: TSchema, value: unknown, prefix = ''): LockerMapError | null {
  const first = Value.Errors(schema, value)[0];
  if (!first) return null;
  const field = prefix + first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  return new LockerMapError(field || '(root)', first.message);
}

/**
 * A lock or sensor is a GPIO line or a board channel. Checked against the form it has first, so an
 * error names the field inside it ("compartments.3.lock.offset") rather than "matches no form".
 */
function refError(raw: unknown): LockerMapError | null {
  const compartments = (raw as { compartments?: unknown })?.compartments;
  if (!Array.isArray(compartments)) return null;
  for (const [i, c] of compartments.entries()) {
    for (const kind of ['lock', 'sensor'] as const) {
      const ref = (c as Record<string, unknown> | null)?.[kind];
      if (!ref || typeof ref !== 'object') continue;
      const schema = 'board' in ref ? BoardChannel : kind === 'lock' ? LockLine : SensorLine;
      const err = schemaError(schema, ref, `compartments.${i}.${kind}.`);
      if (err) return err;
    }
  }
  return null;
}

export function parseLockerMap(raw: unknown, opts: MapCheckOptions = {}): LockerMap {
  const withDefaults = Value.Default(LockerMapSchema, structuredClone(raw));
  const err = refError(withDefaults) ?? schemaError(LockerMapSchema, withDefaults);
  if (err) throw err;
  const map = withDefaults as LockerMap;
  checkLines(map, opts);
  checkBoards(map, (field, message) => new LockerMapError(field, message));
  map.boards.forEach((b, i) => {
    if (opts.uartInUse && usesHeaderUart(b.port)) throw new LockerMapError(`boards.${i}.port`, `${b.port} is the header UART, which the SMS modem uses: put the boards on a USB RS485 adapter`);
  });
  return map;
}

function checkLines(map: LockerMap, opts: MapCheckOptions): void {
  const reserved = new Map<number, string>();
  if (map.expanders.length > 0) for (const p of I2C_PINS) reserved.set(p, 'the I2C bus of the expanders');
  if (opts.uartInUse) for (const p of UART_PINS) reserved.set(p, 'the UART of the serial modem');
  // Every header or expander line, and who uses it: no line may serve two purposes.
  const used = new Map<string, string>();

  const expanders = new Map<string, LockerMap['expanders'][number]>();
  const addresses = new Set<string>();
  map.expanders.forEach((e, i) => {
    if (e.id === 'header') throw new LockerMapError(`expanders.${i}.id`, '"header" is reserved for the Pi header');
    if (expanders.has(e.id)) throw new LockerMapError(`expanders.${i}.id`, `duplicate expander id "${e.id}"`);
    const addr = `${e.i2cBus ?? 1}:${e.address}`;
    if (addresses.has(addr)) throw new LockerMapError(`expanders.${i}.address`, `two expanders at I2C address 0x${e.address.toString(16)}`);
    addresses.add(addr);
    expanders.set(e.id, e);
    if (!e.interrupt) {
      if (e.interruptPin !== undefined) {
        throw new LockerMapError(`expanders.${i}.interruptPin`, 'is set but "interrupt" is not true: say whether INTA is wired');
      }
      return;
    }
    // The overlay claims its interrupt pin on the header; two expanders cannot share one.
    const pin = e.interruptPin ?? DEFAULT_INTERRUPT_PIN;
    const field = `expanders.${i}.interruptPin`;
    const why = reserved.get(pin);
    if (why) throw new LockerMapError(field, `BCM ${pin} is used by ${why}`);
    const other = used.get(`header:${pin}`);
    if (other) {
      const hint = e.interruptPin === undefined ? ` (${DEFAULT_INTERRUPT_PIN} is the default: set interruptPin)` : '';
      throw new LockerMapError(field, `BCM ${pin} is already used by ${other}${hint}`);
    }
    used.set(`header:${pin}`, `the interrupt of expander ${e.id}`);
  });

  const numbers = new Set<number>();
  map.compartments.forEach((c, i) => {
    if (numbers.has(c.number)) throw new LockerMapError(`compartments.${i}.number`, `compartment ${c.number} appears twice`);
    numbers.add(c.number);
    for (const kind of ['lock', 'sensor'] as const) {
      const line = c[kind];
      if (onBoard(line)) continue;
      const field = `compartments.${i}.${kind}`;
      if (line.chip === 'header') {
        if (line.offset < HEADER_MIN || line.offset > HEADER_MAX) {
          throw new LockerMapError(`${field}.offset`, `header lines are BCM ${HEADER_MIN}-${HEADER_MAX}, got ${line.offset}`);
        }
        const why = reserved.get(line.offset);
        if (why) throw new LockerMapError(`${field}.offset`, `BCM ${line.offset} is used by ${why}`);
      } else {
        if (!expanders.has(line.chip)) throw new LockerMapError(`${field}.chip`, `unknown chip "${line.chip}" (declare it under expanders)`);
        if (line.offset > 15) throw new LockerMapError(`${field}.offset`, `an MCP23017 has lines 0-15, got ${line.offset}`);
      }
      if (kind === 'sensor' && line.chip !== 'header' && 'pull' in line && line.pull === 'down') {
        throw new LockerMapError(`${field}.pull`, 'an MCP23017 has pull-ups only: fit an external pull-down and say "none"');
      }
      const key = `${line.chip}:${line.offset}`;
      const other = used.get(key);
      if (other) throw new LockerMapError(`${field}`, `line ${key} is already used by ${other}`);
      used.set(key, `compartment ${c.number} ${kind}`);
    }
  });
}

export function loadLockerMap(path: string = EXAMPLE_MAP_PATH, opts: MapCheckOptions = {}): LockerMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LockerMapError('(file)', `cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LockerMapError('(file)', `${path} is not JSON: ${(err as Error).message}`);
  }
  return parseLockerMap(raw, opts);
}
