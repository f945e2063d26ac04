// Expected PDUs written out from TS 23.040 / 23.038 field by field, independently of server/sms/pdu.ts.

// TP-DA for +84912345678: 11 digits, international (0x91), swapped BCD with an F filler.
export const DA = '0B914819325476F8';

export const LONG_VI =
  'Hồ sơ của bạn đã sẵn sàng tại Tủ ATM hồ sơ 24/7 (UBND phường Bến Nghé, Quận 1). Mã nhận: 042917. ' +
  'Hạn nhận: 22:00 ngày 30/11/2026. Nhập số điện thoại và mã này trên màn hình của tủ.';

export const hex2 = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();

/** TS 23.040 SMS-SUBMIT with UCS-2 (DCS 08) and an 8-bit concatenation UDH, written out field by field. */
export function expectedUcs2(text: string, ref: number): string[] {
  const units = Array.from(text, (c) => c.charCodeAt(0)); // Vietnamese is all in the BMP
  const slices: number[][] = [];
  for (let i = 0; i < units.length; i += 67) slices.push(units.slice(i, i + 67));
  return slices.map((s, i) => {
    const ud = `050003${hex2(ref)}${hex2(slices.length)}${hex2(i + 1)}${s.map((u) => u.toString(16).padStart(4, '0')).join('')}`.toUpperCase();
    // SCA 00 | FO 71 = SUBMIT, relative VP, status report, UDH | MR 00 | DA | PID 00 | DCS 08 | VP A7 (24 h) | UDL | UD
    return `00` + `71` + `00` + DA + `00` + `08` + `A7` + hex2(ud.length / 2) + ud;
  });
}

/** GSM-7 packing done the slow way: a string of bits, LSB of each octet first, UDH and one fill bit in front. */
export function expectedGsm7(text: string, ref: number): string[] {
  const septets = Array.from(text, (c) => c.charCodeAt(0)); // letters, digits, space and . , : / ( ) - are the same in GSM-7
  const slices: number[][] = [];
  for (let i = 0; i < septets.length; i += 153) slices.push(septets.slice(i, i + 153));
  const lsbFirst = (v: number, width: number) => Array.from({ length: width }, (_, i) => String((v >> i) & 1)).join('');
  return slices.map((s, i) => {
    const udh = [0x05, 0x00, 0x03, ref, slices.length, i + 1];
    let bits = udh.map((b) => lsbFirst(b, 8)).join('') + '0' + s.map((v) => lsbFirst(v, 7)).join('');
    while (bits.length % 8) bits += '0';
    let ud = '';
    for (let j = 0; j < bits.length; j += 8) ud += hex2(parseInt(bits.slice(j, j + 8).split('').reverse().join(''), 2));
    return `00` + `71` + `00` + DA + `00` + `00` + `A7` + hex2(7 + s.length) + ud;
  });
}

