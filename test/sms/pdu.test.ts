import { describe, expect, it } from 'vitest';
import { buildSubmitPdus, chooseEncoding, deliveryOutcome, encodeAddress, MAX_PARTS, parseStatusReport, PduError } from '../../server/sms/pdu.ts';

const base = { to: '0912345678', ref: 9, statusReport: false };

/** The user data of a PDU built for 0912345678 (fixed header length: 14 octets before UDL). */
function userData(hex: string): { udl: number; ud: string } {
  return { udl: parseInt(hex.slice(28, 30), 16), ud: hex.slice(30) };
}

describe('SMS-SUBMIT PDUs', () => {
  it('writes the destination as +84 in swapped BCD, from either accepted phone form', () => {
    expect(encodeAddress('0912345678').toString('hex').toUpperCase()).toBe('0B914819325476F8');
    expect(encodeAddress('+84 912 345 678').toString('hex').toUpperCase()).toBe('0B914819325476F8');
    expect(encodeAddress('0381234567').toString('hex').toUpperCase()).toBe('0B914883214365F7');
    expect(() => encodeAddress('12345')).toThrow(PduError);
  });

  it('uses GSM-7 only when every character is in the default alphabet or its extension table', () => {
    expect(chooseEncoding('Ma nhan: 042917. Han: 22:00 ngay 30/11/2026 [tu 7] {a} €')).toBe('gsm7');
    expect(chooseEncoding('Mã nhận')).toBe('ucs2');
    expect(chooseEncoding('tab\there')).toBe('ucs2');
    // Vietnamese written with combining marks is composed first (NFC), then judged.
    expect(chooseEncoding('e\u0301')).toBe('gsm7'); // é is in the GSM-7 default alphabet
  });

  it('fits 160 GSM-7 septets or 70 UCS-2 characters in one SMS, and splits one more into two parts', () => {
    expect(buildSubmitPdus({ ...base, text: 'a'.repeat(160) }).parts).toHaveLength(1);
    expect(buildSubmitPdus({ ...base, text: 'a'.repeat(161) }).parts).toHaveLength(2);
    expect(buildSubmitPdus({ ...base, text: 'ư'.repeat(70) }).parts).toHaveLength(1);
    const two = buildSubmitPdus({ ...base, text: 'ư'.repeat(71) }).parts;
    expect(two).toHaveLength(2);
    expect(userData(two[0].hex)).toMatchObject({ udl: 6 + 67 * 2 });
    expect(userData(two[1].hex)).toMatchObject({ udl: 6 + 4 * 2 });
  });

  it('counts an extension character as two septets and never splits it from its escape', () => {
    // 152 letters then "€": the escape would be the 153rd septet of part 1 and its partner in part 2.
    const parts = buildSubmitPdus({ ...base, text: `${'a'.repeat(152)}€${'b'.repeat(10)}` }).parts;
    expect(parts).toHaveLength(2);
    expect(userData(parts[0].hex).udl).toBe(7 + 152);
    expect(userData(parts[1].hex).udl).toBe(7 + 2 + 10); // ESC 0x65 and ten b
    expect(buildSubmitPdus({ ...base, text: '€'.repeat(80) }).parts).toHaveLength(1);
    expect(buildSubmitPdus({ ...base, text: '€'.repeat(81) }).parts).toHaveLength(2);
  });

  it('never splits a surrogate pair across UCS-2 parts', () => {
    const text = `${'a'.repeat(66)}😀bcd ư`;
    const parts = buildSubmitPdus({ ...base, text }).parts;
    expect(userData(parts[0].hex).udl).toBe(6 + 66 * 2);
    expect(userData(parts[1].hex).ud.slice(12, 20)).toBe('D83DDE00');
  });

  it('gives every part the same reference, the count and its number, and sets UDHI', () => {
    const parts = buildSubmitPdus({ ...base, ref: 0x1ff, text: 'ư'.repeat(140) }).parts;
    expect(parts.map((p) => p.hex.slice(2, 4))).toEqual(['51', '51', '51']);
    expect(parts.map((p) => userData(p.hex).ud.slice(0, 12))).toEqual(['050003FF0301', '050003FF0302', '050003FF0303']);
  });

  it('refuses an empty text and one that would need more than the allowed parts', () => {
    expect(() => buildSubmitPdus({ ...base, text: '' })).toThrow(PduError);
    expect(() => buildSubmitPdus({ ...base, text: 'ư'.repeat(67 * MAX_PARTS + 1) })).toThrow(/parts/);
  });
});

describe('SMS-STATUS-REPORT', () => {
  // +CDS: 25 / SCA +84980000000 | FO 06 | MR 2A | RA 0B 91 +84912345678 | SCTS | DT | ST
  const report = (st: string) => `07914889000000F0` + `06` + `2A` + `0B91` + `4819325476F8` + `62113221547000` + `62113221547000` + st;

  it('reads the message reference, the recipient and the status', () => {
    expect(parseStatusReport(report('00'), 25)).toEqual({ reference: 0x2a, recipient: '0912345678', status: 0 });
    expect(parseStatusReport(report('41'), 25).status).toBe(0x41);
    // Without the length, the service-centre part is skipped by its own length octet.
    expect(parseStatusReport(report('00')).reference).toBe(0x2a);
  });

  it('tells delivered, still trying and given up apart', () => {
    expect([0x00, 0x02, 0x20, 0x30, 0x40, 0x45, 0x62].map(deliveryOutcome)).toEqual(['delivered', 'delivered', 'pending', 'pending', 'failed', 'failed', 'failed']);
  });

  it('refuses what is not a status report', () => {
    expect(() => parseStatusReport('zz')).toThrow(PduError);
    expect(() => parseStatusReport('0011000B914819325476F80000A70AE8329BFD4697D9EC37')).toThrow(/STATUS-REPORT|truncated/);
    expect(() => parseStatusReport('07914889000000F0062A0B91')).toThrow(/truncated/);
  });
});
