// Vietnamese mobile numbers: accepted as 0xxxxxxxxx or +84xxxxxxxxx, stored as 0xxxxxxxxx.
const MOBILE_PREFIXES = /^0(3|5|7|8|9)\d{8}$/;

export function normalizePhone(input: string): string | null {
  const s = input.replace(/[\s.-]/g, '');
  let local: string;
  if (/^\+84\d{9}$/.test(s)) local = `0${s.slice(3)}`;
  else if (/^84\d{9}$/.test(s)) local = `0${s.slice(2)}`;
  else if (/^0\d{9}$/.test(s)) local = s;
  else return null;
  return MOBILE_PREFIXES.test(local) ? local : null;
}

/** 0912345678 -> 09******78: the only form a phone number may take in logs, events and MQTT. */
export function maskPhone(phone: string): string {
  const local = normalizePhone(phone) ?? phone.replace(/\D/g, '');
  if (local.length < 5) return '*'.repeat(local.length);
  return `${local.slice(0, 2)}${'*'.repeat(local.length - 4)}${local.slice(-2)}`;
}

/** International form for gateways that want it: +84912345678. */
export function internationalPhone(local: string): string {
  return `+84${local.slice(1)}`;
}
