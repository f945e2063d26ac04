// Values that go into the texts citizens receive: times in Vietnam time, short enough for one SMS.
export { stripDiacritics } from './encoding.ts';

const TIME_ZONE = 'Asia/Ho_Chi_Minh';

function parts(at: number): Record<string, string> {
  const out: Record<string, string> = {};
  const fmt = new Intl.DateTimeFormat('en-GB', {
    timeZone: TIME_ZONE,
    hour: '2-digit',
    minute: '2-digit',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hourCycle: 'h23',
  });
  for (const p of fmt.formatToParts(new Date(at))) out[p.type] = p.value;
  return out;
}

/** "22:00 ngày 30/11/2026": the long form, for screens and logs that have the room. */
export function formatDeadline(at: number): string {
  const p = parts(at);
  return `${p.hour}:${p.minute} ngày ${p.day}/${p.month}/${p.year}`;
}

/** "22:00 30/11": what an SMS carries (always 11 characters; the pickup window is days, not years). */
export function formatSmsTime(at: number): string {
  const p = parts(at);
  return `${p.hour}:${p.minute} ${p.day}/${p.month}`;
}

/** Every SMS time has this length, so the start-up check measures with it. */
export const SMS_TIME_LENGTH = 11;
