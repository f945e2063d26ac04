// The texts citizens receive. Vietnamese by default; `plain` strips diacritics for gateways
// (and GSM-7 modems) that cannot carry them.

export interface PickupMessageInput {
  code: string;
  expiresAt: number;
  location: string;
  plain: boolean;
}

const TIME_ZONE = 'Asia/Ho_Chi_Minh';

export function formatDeadline(at: number): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: TIME_ZONE,
    hour: '2-digit',
    minute: '2-digit',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('hour')}:${get('minute')} ngày ${get('day')}/${get('month')}/${get('year')}`;
}

export function stripDiacritics(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D');
}

const SIX_DIGITS = /(?<!\d)\d{6}(?!\d)/g;

export function pickupMessage(input: PickupMessageInput): string {
  const deadline = formatDeadline(input.expiresAt);
  // The code must be the only standalone 6-digit number, so kiosks and phones pick it out;
  // a location that carries one is left out rather than confuse the citizen.
  const location = (input.location.match(SIX_DIGITS) ?? []).length > 0 ? '' : ` (${input.location})`;
  const text =
    `Hồ sơ của bạn đã sẵn sàng tại Tủ ATM hồ sơ 24/7${location}. ` +
    `Mã nhận: ${input.code}. Hạn nhận: ${deadline}. ` +
    `Nhập số điện thoại và mã này trên màn hình của tủ.`;
  return input.plain ? stripDiacritics(text) : text;
}
