// The locker map: which compartments exist, their sizes, where they sit in the bank, and
// which GPIO line drives each lock and reads each door sensor.
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

export const Compartment = Type.Object(
  {
    number: Type.Integer({ minimum: 1 }),
    size: Type.Union([Type.Literal('S'), Type.Literal('M'), Type.Literal('L')]),
    column: Type.Integer({ minimum: 1 }),
    row: Type.Integer({ minimum: 1 }),
    lock: LockLine,
    sensor: SensorLine,
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
    compartments: Type.Array(Compartment, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type LockerMap = Static<typeof LockerMapSchema>;
export type CompartmentDef = Static<typeof Compartment>;
