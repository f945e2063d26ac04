// Hostile values for the fuzz suites: wrong types, huge numbers, digits from other scripts,
// whitespace, prototype keys, and near-misses of real values.
import fc from 'fast-check';

const FULL_WIDTH = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
const ARABIC_INDIC = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0x0660 + Number(d)));
const PERSIAN = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d)));
const DEVANAGARI = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0x0966 + Number(d)));

/** Ways to disguise a string of ASCII digits (or any string) that must not pass for the original. */
export const disguises: [string, (s: string) => string][] = [
  ['full-width digits', FULL_WIDTH],
  ['Arabic-Indic digits', ARABIC_INDIC],
  ['Persian digits', PERSIAN],
  ['Devanagari digits', DEVANAGARI],
  ['zero-width space inside', (s) => `${s.slice(0, 3)}\u200b${s.slice(3)}`],
  ['right-to-left override', (s) => `\u202e${s}`],
  ['trailing NUL', (s) => `${s}\u0000`],
  ['one digit more', (s) => `${s}0`],
  ['one digit less', (s) => s.slice(1)],
  ['upper-cased / lower-cased', (s) => (s === s.toUpperCase() ? s.toLowerCase() : s.toUpperCase())],
  ['combining mark', (s) => `${s}\u0301`],
  ['newline inside', (s) => `${s.slice(0, 2)}\n${s.slice(2)}`],
  ['tab padded', (s) => `\t${s}\t`],
];

/** `real` disguised one way or another; never `real` itself (a code without digits stays unchanged by the digit swaps). */
export const disguised = (real: string) =>
  fc.constantFrom(...disguises).map(([, f]) => f(real)).filter((s) => s !== real);

export const hugeNumbers = fc.constantFrom(
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 64,
  -0,
  0.1,
  1e-320,
  123456,
  999_999,
);

/** Raw JSON number texts JSON.stringify cannot produce. */
export const rawNumberTexts = fc.constantFrom('1e999', '-1e999', '123456789012345678901234567890', '0.0000000000000000000000001e-400', '-0', '1E+2', '00012', '0x10');

export const weirdStrings = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u00a0',
    '\u3000',
    '\t\n\r',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'null',
    'undefined',
    'NaN',
    'Infinity',
    'true',
    '-1',
    '0',
    '1e309',
    '../../etc/passwd',
    '..%2f..%2fetc%2fpasswd',
    '%00',
    '\u0000',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    '${7*7}',
    '{{7*7}}',
    '\ud800',
    '\uffff',
    '😀'.repeat(20),
    'Ａ'.repeat(64),
    'x'.repeat(65),
    'x'.repeat(5000),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom(...'０１２３４５６７８９٠١٢٣٤٥٦٧٨٩ \u00a0\u3000+.-'), minLength: 1, maxLength: 14 }),
);

/** Any JSON value, biased to what breaks validators. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: weirdStrings },
  { weight: 2, arbitrary: hugeNumbers },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
  { weight: 1, arbitrary: fc.array(weirdStrings, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/**
 * A JSON object built from `fields` (the endpoint's own names and a few others): missing, extra,
 * prototype keys; values either `sample(field)` (near-valid) or hostile. Returned as text, because
 * `__proto__` as an own key cannot be made with JSON.stringify of an object literal.
 */
export function hostileObjectText(fields: string[], sample: (field: string) => fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  const names = [...new Set([...fields, '__proto__', 'constructor', 'prototype', 'extra', 'role', 'admin'])];
  const entry = fc.constantFrom(...names).chain((name) =>
    fc.tuple(
      fc.constant(name),
      fc.oneof({ weight: 2, arbitrary: sample(name) }, { weight: 1, arbitrary: hostileValue }).map((v) => JSON.stringify(v) ?? 'null'),
    ),
  );
  return fc.oneof(
    // every field present, mostly near-valid, possibly one extra
    fc.tuple(fc.tuple(...fields.map((f) => fc.tuple(fc.constant(f), sample(f).map((v) => JSON.stringify(v) ?? 'null')))), fc.option(entry)).map(
      ([all, extra]) => [...all, ...(extra ? [extra] : [])],
    ),
    // any subset, any order, duplicates allowed
    fc.array(entry, { maxLength: fields.length + 2 }),
  ).map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
}

/** Bodies that are not an object of fields at all. */
export const notAnObjectText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'not json',
    '{"unterminated": ',
    '{"a":1}}',
    '[]',
    '[{}]',
    'null',
    'true',
    '42',
    '"string"',
    '{"__proto__": {"admin": true}}',
    '{"constructor": {"prototype": {"admin": true}}}',
    '{"a": 1e999}',
    "{'single': 'quotes'}",
    '{"a":1,}',
    '\ufeff{}',
    '[' .repeat(3000) + ']'.repeat(3000),
    '{"a":'.repeat(2000) + '1' + '}'.repeat(2000),
  ),
  fc.json({ maxDepth: 3 }),
  rawNumberTexts,
  fc.string({ maxLength: 30 }),
);

/** A body over `limit` bytes: valid JSON, so only its size is wrong. */
export const oversizeText = (limit: number) =>
  fc.integer({ min: limit + 1, max: limit * 4 }).map((n) => JSON.stringify({ phone: '0912345678', code: '1'.repeat(n) }));
