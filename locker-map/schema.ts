// The locker map: which compartments exist, their sizes, where they sit in the bank, and
// which GPIO line, or which channel of an RS485 lock board, drives each lock and reads each door.
import { Type, type Static } from 'typebox';

export const SIZES = ['S', 'M', 'L'] as const;
export type Size = (typeof SIZES)[number];

const Level = Type.Union([Type.Literal('high'), Type.Literal('low')]);

export const LineRef = Type.Object(
  {
    chip: Type.String({ minLength: 1, description: '"header" (BCM numbering) or the id of an expander' }),
    offset: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const LockLine = Type.Object(
  {
    chip: LineRef.properties.chip,
    offset: LineRef.properties.offset,
    activeLevel: Type.Optional(Level),
  },
  { additionalProperties: false, description: 'activeLevel: the level that energises the relay (unlocks)' },
);

export const SensorLine = Type.Object(
  {
    chip: LineRef.properties.chip,
    offset: LineRef.properties.offset,
    pull: Type.Optional(Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('none')])),
    closedLevel: Type.Optional(Level),
  },
  { additionalProperties: false, description: 'closedLevel: the level read while the door is shut (magnet at the reed switch)' },
);

export const Expander = Type.Object(
  {
    id: Type.String({ minLength: 1, pattern: '^[a-z][a-z0-9_-]*$' }),
    type: Type.Literal('mcp23017'),
    i2cBus: Type.Optional(Type.Integer({ minimum: 0, maximum: 31 })),
    address: Type.Integer({ minimum: 0x20, maximum: 0x27 }),
    interrupt: Type.Optional(Type.Boolean({ description: 'true when its INT pin is wired, so sensor edges need no polling' })),
    interruptPin: Type.Optional(
      Type.Integer({ minimum: 2, maximum: 27, description: 'BCM pin of the header wired to its INTA output (the overlay\'s gpiopin; default 4)' }),
    ),
  },
  { additionalProperties: false },
);

export const BOARD_PROTOCOLS = ['kr-cu16', 'kr-cu12', '8a80', 'modbus', 'modbus-timed'] as const;

export const LockBoard = Type.Object(
  {
    id: Type.String({ minLength: 1, pattern: '^[a-z][a-z0-9_-]*$' }),
    protocol: Type.Union([Type.Literal('kr-cu16'), Type.Literal('kr-cu12'), Type.Literal('8a80'), Type.Literal('modbus'), Type.Literal('modbus-timed')], {
      description: 'kr-cu16, kr-cu12, 8a80; modbus (the driver ends each pulse) or modbus-timed (the board does: Waveshare flash-on)',
    }),
    port: Type.String({ minLength: 1, description: 'the serial device of its RS485 bus, best /dev/serial/by-id/…' }),
    baud: Type.Optional(Type.Integer({ minimum: 1200, maximum: 115_200, description: "default: the protocol's factory speed" })),
    address: Type.Integer({ minimum: 0, maximum: 247, description: 'its address on the bus (DIP switches)' }),
    channels: Type.Optional(Type.Integer({ minimum: 1, maximum: 48, description: 'channels in use; default: the highest one the map names' })),
    feedback: Type.Optional(
      Type.Union([Type.Literal('set-when-closed'), Type.Literal('set-when-open')], {
        description: "what a set feedback bit means on this board; sources disagree per family, so state it (locker hw test shows what it saw)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const BoardChannel = Type.Object(
  {
    board: Type.String({ minLength: 1 }),
    channel: Type.Integer({ minimum: 1, maximum: 48 }),
  },
  { additionalProperties: false },
);

export const Compartment = Type.Object(
  {
    number: Type.Integer({ minimum: 1 }),
    size: Type.Union([Type.Literal('S'), Type.Literal('M'), Type.Literal('L')]),
    column: Type.Integer({ minimum: 1 }),
    row: Type.Integer({ minimum: 1 }),
    lock: Type.Union([LockLine, BoardChannel]),
    sensor: Type.Union([SensorLine, BoardChannel]),
  },
  { additionalProperties: false },
);

export const LockerMapSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ minLength: 1 }),
    location: Type.String({ minLength: 1 }),
    locks: Type.Object(
      {
        pulseMs: Type.Integer({ minimum: 10, maximum: 2000 }),
        gapMs: Type.Integer({ minimum: 0, maximum: 10_000 }),
      },
      { additionalProperties: false },
    ),
    expanders: Type.Array(Expander, { default: [] }),
    boards: Type.Array(LockBoard, { default: [] }),
    compartments: Type.Array(Compartment, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type LockerMap = Static<typeof LockerMapSchema>;
export type CompartmentDef = Static<typeof Compartment>;
export type LockBoardDef = Static<typeof LockBoard>;
export type LockLineDef = Static<typeof LockLine>;
export type SensorLineDef = Static<typeof SensorLine>;
export type BoardChannelDef = Static<typeof BoardChannel>;

/** A lock or sensor on a board channel rather than a GPIO line. */
export function onBoard(ref: LockLineDef | SensorLineDef | BoardChannelDef): ref is BoardChannelDef {
  return 'board' in ref;
}
