// How an SMS text is carried and how much of one SMS it takes: the one source that the start-up
// check of the templates, the composer of the texts, the modem's PDU encoder and the HTTP gateway's
// "unicode" flag all ask, so what was measured at start is what is sent.
//   gsm7  the GSM 03.38 default alphabet: 160 septets in one SMS, an extension-table character
//         ({ } [ ] ~ \ | ^ € and form feed) takes two. Vietnamese is written without diacritics.
//   ucs2  UTF-16: 70 code units in one SMS, diacritics kept.
// A text whose every character GSM-7 can carry is sent as GSM-7 whatever was configured (it is
// the cheaper and larger of the two); the setting decides whether diacritics are stripped first.

export type SmsEncoding = 'gsm7' | 'ucs2';
export const SMS_ENCODINGS = ['gsm7', 'ucs2'] as const;

// The GSM 03.38 default alphabet, in septet order (0x1B is the escape to the extension table).
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION: Record<string, number> = { '\f': 0x0a, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2f, '[': 0x3c, '~': 0x3d, ']': 0x3e, '|': 0x40, '€': 0x65 };
const GSM7_INDEX = new Map<string, number>([...GSM7_BASIC].map((c, i) => [c, i]));

export const SINGLE_GSM7_SEPTETS = 160;
export const PART_GSM7_SEPTETS = 153; // 160 minus the 6-octet UDH and its fill bit (7 septets)
export const SINGLE_UCS2_UNITS = 70;
export const PART_UCS2_UNITS = 67; // (140 - 6) / 2

/** What one SMS holds in each encoding (septets for GSM-7, UTF-16 code units for UCS-2). */
export const ONE_PART: Record<SmsEncoding, number> = { gsm7: SINGLE_GSM7_SEPTETS, ucs2: SINGLE_UCS2_UNITS };

/** Each character's septets (two for extension characters), or null when GSM-7 cannot carry it. */
export function septetsOf(ch: string): number[] | null {
  const basic = GSM7_INDEX.get(ch);
  if (basic !== undefined && ch !== '\x1b') return [basic];
  const ext = GSM7_EXTENSION[ch];
  return ext === undefined ? null : [0x1b, ext];
}

export function canEncodeGsm7(text: string): boolean {
  for (const ch of text) if (septetsOf(ch) === null) return false;
  return true;
}

/** How the text goes on the air: GSM-7 when every character (after NFC) is in its alphabet, else UCS-2. */
export function chooseEncoding(text: string): SmsEncoding {
  return canEncodeGsm7(text.normalize('NFC')) ? 'gsm7' : 'ucs2';
}

/** Vietnamese without diacritics: every tone and vowel mark goes (NFD, then the combining marks), đ→d, Đ→D. */
export function stripDiacritics(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').normalize('NFC');
}

// Punctuation that editors put in and GSM-7 lacks, with what it can carry instead.
const GSM7_LOOKALIKES: Record<string, string> = {
  '…': '...',
  '–': '-',
  '—': '-',
  '‘': "'",
  '’': "'",
  '“': '"',
  '”': '"',
  '\u00a0': ' ',
  '\t': ' ',
  '•': '-',
};

/** The text as GSM-7 carries it: diacritics stripped, look-alike punctuation replaced, anything else "?". */
export function toGsm7Text(text: string): string {
  let out = '';
  for (const ch of stripDiacritics(text)) {
    const sub = GSM7_LOOKALIKES[ch] ?? ch;
    out += canEncodeGsm7(sub) ? sub : '?';
  }
  return out;
}

/** The characters of `text` that GSM-7 cannot carry even after stripping diacritics (they would become "?"). */
export function gsm7Unencodable(text: string): string[] {
  const bad = new Set<string>();
  for (const ch of stripDiacritics(text)) {
    const sub = GSM7_LOOKALIKES[ch] ?? ch;
    if (!canEncodeGsm7(sub)) bad.add(ch);
  }
  return [...bad];
}

/** The text ready for the configured encoding: GSM-7 texts lose their diacritics, UCS-2 texts are composed (NFC). */
export function prepareText(text: string, encoding: SmsEncoding): string {
  return encoding === 'gsm7' ? toGsm7Text(text) : text.normalize('NFC');
}

/** Septets of a GSM-7 text (extension characters count two), or UTF-16 units of a UCS-2 text. */
export function smsUnits(text: string): { encoding: SmsEncoding; units: number } {
  const nfc = text.normalize('NFC');
  const encoding = chooseEncoding(nfc);
  if (encoding === 'ucs2') return { encoding, units: nfc.length };
  let units = 0;
  for (const ch of nfc) units += septetsOf(ch)!.length;
  return { encoding, units };
}

/** How many SMS the text takes on the air (1 when it fits one message). */
export function smsParts(text: string): number {
  const { encoding, units } = smsUnits(text);
  if (units <= ONE_PART[encoding]) return 1;
  return Math.ceil(units / (encoding === 'gsm7' ? PART_GSM7_SEPTETS : PART_UCS2_UNITS));
}
