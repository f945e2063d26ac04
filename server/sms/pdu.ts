// SMS-SUBMIT PDUs for AT+CMGS in PDU mode (3GPP TS 23.040 / 23.038), and the SMS-STATUS-REPORT
// the network sends back. Text mode cannot carry Vietnamese diacritics on most modems (it depends on
// AT+CSCS and the firmware), so the modem channel always builds the PDU itself:
//   GSM-7 (DCS 0x00) when every character is in the default alphabet or its extension table,
//   UCS-2 (DCS 0x08) otherwise (the decision and the alphabet live in encoding.ts, which the template
//   check at start-up measures with); long texts split into concatenated parts (UDH IEI 0x00, 8-bit reference).
import { internationalPhone, normalizePhone } from '../domain/phone.ts';
import { chooseEncoding, PART_GSM7_SEPTETS, PART_UCS2_UNITS, septetsOf, SINGLE_GSM7_SEPTETS, SINGLE_UCS2_UNITS, type SmsEncoding } from './encoding.ts';

export { canEncodeGsm7, chooseEncoding, PART_GSM7_SEPTETS, PART_UCS2_UNITS, SINGLE_GSM7_SEPTETS, SINGLE_UCS2_UNITS, type SmsEncoding } from './encoding.ts';
export const MAX_PARTS = 10;

/** Relative validity period octet: 167 = 12 h + 24 x 30 min = 24 hours (TS 23.040 9.2.3.12.1). */
export const VALIDITY_24H = 0xa7;

export class PduError extends Error {}

/** Packs septets LSB first; `skipBits` leaves room in front (for a UDH plus fill bits). */
export function packSeptets(septets: number[], skipBits = 0): Buffer {
  const totalBits = skipBits + septets.length * 7;
  const out = Buffer.alloc(Math.ceil(totalBits / 8));
  let bit = skipBits;
  for (const s of septets) {
    for (let i = 0; i < 7; i++, bit++) {
      if ((s >> i) & 1) out[bit >> 3] |= 1 << (bit & 7);
    }
  }
  return out;
}

/** Destination address field: length in digits, type of address, swapped BCD digits. */
export function encodeAddress(phone: string): Buffer {
  const local = normalizePhone(phone);
  if (!local) throw new PduError('not a Vietnamese mobile number');
  const digits = internationalPhone(local).slice(1); // 84xxxxxxxxx
  const padded = digits.length % 2 === 1 ? `${digits}F` : digits;
  const bcd = Buffer.alloc(padded.length / 2);
  for (let i = 0; i < padded.length; i += 2) bcd[i / 2] = parseInt(padded[i + 1] + padded[i], 16);
  return Buffer.concat([Buffer.from([digits.length, 0x91]), bcd]);
}

function decodeAddressDigits(bcd: Buffer, digits: number): string {
  let out = '';
  for (const b of bcd) out += (b & 0x0f).toString(16) + (b >> 4).toString(16);
  return out.slice(0, digits).toUpperCase();
}

interface Chunk {
  /** GSM-7: septet values; UCS-2: UTF-16 code units. */
  units: number[];
}

function splitGsm7(text: string): Chunk[] {
  const chars = [...text].map((c) => septetsOf(c)!);
  const total = chars.reduce((n, s) => n + s.length, 0);
  if (total <= SINGLE_GSM7_SEPTETS) return [{ units: chars.flat() }];
  const parts: Chunk[] = [];
  let cur: number[] = [];
  for (const s of chars) {
    // An escape and its extension septet stay in the same part.
    if (cur.length + s.length > PART_GSM7_SEPTETS) {
      parts.push({ units: cur });
      cur = [];
    }
    cur.push(...s);
  }
  if (cur.length > 0) parts.push({ units: cur });
  return parts;
}

function splitUcs2(text: string): Chunk[] {
  const units: number[] = [];
  for (let i = 0; i < text.length; i++) units.push(text.charCodeAt(i));
  if (units.length <= SINGLE_UCS2_UNITS) return [{ units }];
  const parts: Chunk[] = [];
  let i = 0;
  while (i < units.length) {
    let end = Math.min(i + PART_UCS2_UNITS, units.length);
    // Never split a surrogate pair: the phone would show two broken characters.
    if (end < units.length && units[end - 1] >= 0xd800 && units[end - 1] <= 0xdbff) end--;
    parts.push({ units: units.slice(i, end) });
    i = end;
  }
  return parts;
}

export interface SubmitOptions {
  to: string;
  text: string;
  /** Concatenation reference (0-255), the same for every part of one message. */
  ref: number;
  /** Ask the network for an SMS-STATUS-REPORT (TP-SRR). */
  statusReport: boolean;
  validity?: number;
}

export interface SubmitPdu {
  /** What follows the `>` prompt: "00" (the SIM's service centre) and the TPDU, as upper-case hex. */
  hex: string;
  /** The number AT+CMGS wants: TPDU octets, service-centre part not counted. */
  tpduLength: number;
}

export function buildSubmitPdus(opts: SubmitOptions): { encoding: SmsEncoding; parts: SubmitPdu[] } {
  const text = opts.text.normalize('NFC');
  if (text.length === 0) throw new PduError('empty message');
  const encoding = chooseEncoding(text);
  const chunks = encoding === 'gsm7' ? splitGsm7(text) : splitUcs2(text);
  if (chunks.length > MAX_PARTS) throw new PduError(`message needs ${chunks.length} parts; at most ${MAX_PARTS}`);
  const address = encodeAddress(opts.to);
  const multi = chunks.length > 1;
  const firstOctet = 0x01 | 0x10 | (opts.statusReport ? 0x20 : 0) | (multi ? 0x40 : 0);
  const ref = opts.ref & 0xff;
  const parts = chunks.map((chunk, i) => {
    const udh = multi ? Buffer.from([0x05, 0x00, 0x03, ref, chunks.length, i + 1]) : Buffer.alloc(0);
    let udl: number;
    let ud: Buffer;
    if (encoding === 'gsm7') {
      // The UDH takes 6 octets = 48 bits; one fill bit aligns the text to a septet boundary (7 septets).
      const headerSeptets = multi ? 7 : 0;
      ud = packSeptets(chunk.units, headerSeptets * 7);
      udh.copy(ud, 0);
      udl = headerSeptets + chunk.units.length;
    } else {
      const body = Buffer.alloc(chunk.units.length * 2);
      chunk.units.forEach((u, j) => body.writeUInt16BE(u, j * 2));
      ud = Buffer.concat([udh, body]);
      udl = ud.length;
    }
    const tpdu = Buffer.concat([
      Buffer.from([firstOctet, 0x00]), // first octet, TP-MR (the modem fills it in)
      address,
      Buffer.from([0x00, encoding === 'gsm7' ? 0x00 : 0x08, opts.validity ?? VALIDITY_24H, udl]),
      ud,
    ]);
    return { hex: `00${tpdu.toString('hex')}`.toUpperCase(), tpduLength: tpdu.length };
  });
  return { encoding, parts };
}

export interface StatusReport {
  /** TP-MR of the message this report is about (what +CMGS answered). */
  reference: number;
  /** Recipient in local form (0xxxxxxxxx) when it is a Vietnamese mobile number, else its digits. */
  recipient: string;
  /** TP-ST: 0x00-0x1F delivered (or replaced), 0x20-0x3F still trying, 0x40-0x7F given up. */
  status: number;
}

export type DeliveryOutcome = 'delivered' | 'pending' | 'failed';

export function deliveryOutcome(status: number): DeliveryOutcome {
  if (status <= 0x1f) return 'delivered';
  if (status <= 0x3f) return 'pending';
  return 'failed';
}

/** Parses the PDU of a `+CDS: <length>` unsolicited result; `length` excludes the service-centre part. */
export function parseStatusReport(hex: string, length?: number): StatusReport {
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(hex)) throw new PduError('status report is not hex');
  const buf = Buffer.from(hex, 'hex');
  let p = length !== undefined && length <= buf.length ? buf.length - length : 1 + buf[0];
  const need = (n: number) => {
    if (p + n > buf.length) throw new PduError('status report is truncated');
  };
  need(3);
  const firstOctet = buf[p++];
  if ((firstOctet & 0x03) !== 0x02) throw new PduError('not an SMS-STATUS-REPORT');
  const reference = buf[p++];
  const digits = buf[p++];
  need(1 + Math.ceil(digits / 2));
  const toa = buf[p++];
  const raw = decodeAddressDigits(buf.subarray(p, p + Math.ceil(digits / 2)), digits);
  p += Math.ceil(digits / 2);
  need(15); // service-centre time stamp, discharge time, status
  p += 14;
  const status = buf[p];
  const intl = (toa & 0x70) === 0x10 ? `+${raw}` : raw;
  return { reference, recipient: normalizePhone(intl) ?? raw, status };
}
