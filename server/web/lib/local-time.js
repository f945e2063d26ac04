// Wall-clock time in the office's time zone (LOCKER_TIMEZONE), the same on the auditor's screen
// and in the CSV export, whatever zone the reading computer is set to. Only Intl: no zone data
// is shipped with the pages.

const formatters = new Map();

function parts(timeZone) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when this runtime knows the IANA zone name. */
export function isTimeZone(name) {
  if (typeof name !== 'string' || name === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of an instant (ms since the epoch) in a zone. */
function fields(ms, timeZone) {
  const out = {};
  for (const p of parts(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** `YYYY-MM-DD HH:MM:SS` in the zone: what a spreadsheet reads as a date and time. */
export function localDateTime(iso, timeZone) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const f = fields(ms, timeZone);
  const two = (n) => String(n).padStart(2, '0');
  return `${f.year}-${two(f.month)}-${two(f.day)} ${two(f.hour)}:${two(f.minute)}:${two(f.second)}`;
}

/** The zone's offset from UTC at an instant, in minutes (Asia/Ho_Chi_Minh: +420). */
export function offsetMinutes(ms, timeZone) {
  const f = fields(ms, timeZone);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** `+07:00` for an offset in minutes. */
export function offsetText(minutes) {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/**
 * The instant (ms) at which a local day `YYYY-MM-DD` starts in the zone; `null` for a date that
 * does not exist. Found by guessing with the offset at noon, then correcting once: offsets change
 * around midnight only in a few zones, and never by more than that one correction.
 */
export function localDayStart(date, timeZone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date ?? '');
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utcMidnight = Date.UTC(y, mo - 1, d);
  const check = new Date(utcMidnight);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  let guess = utcMidnight - offsetMinutes(utcMidnight + 12 * 3600_000, timeZone) * 60_000;
  guess = utcMidnight - offsetMinutes(guess, timeZone) * 60_000;
  return guess;
}
