// Pure helpers for the auditor view: filtering, link checking and CSV. No DOM, so they are
// tested in Node as well as used in the browser.

export const CSV_COLUMNS = ['seq', 'id', 'at', 'type', 'actor', 'compartment', 'dossier', 'data', 'prevHash', 'hash'];
const GENESIS = '0'.repeat(64);

/**
 * filter: {from?: Date, to?: Date (exclusive), type?: string, compartment?: number, dossier?: string}
 * `dossier` matches case-insensitively anywhere in the code, so a partial barcode finds it.
 */
export function matches(e, f) {
  if (f.type && e.type !== f.type) return false;
  if (f.compartment !== undefined && e.compartment !== f.compartment) return false;
  if (f.dossier && !(e.dossier ?? '').toLowerCase().includes(f.dossier.toLowerCase())) return false;
  if (f.from || f.to) {
    const at = Date.parse(e.at);
    if (f.from && at < f.from.getTime()) return false;
    if (f.to && at >= f.to.getTime()) return false;
  }
  return true;
}

/** Checks seq continuity and prevHash links of events in seq order, starting anywhere. */
export function checkLinks(events) {
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const prev = events[i - 1];
    if (prev ? e.seq !== prev.seq + 1 || e.prevHash !== prev.hash : e.seq === 1 && e.prevHash !== GENESIS) return { ok: false, at: e.seq };
  }
  return { ok: true, count: events.length };
}

function cell(v) {
  if (v === undefined || v === null) return '';
  let s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // A spreadsheet must not run a cell as a formula.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV, CRLF line ends, with a BOM so spreadsheet programs read UTF-8 right. */
export function toCsv(events) {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of events) lines.push(CSV_COLUMNS.map((k) => cell(e[k])).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** One CSV line (no line end) of already ordered values, with the same quoting as toCsv. */
export function csvLine(values) {
  return values.map(cell).join(',');
}

/** The columns of the server's export (GET /api/v1/audit.csv): the event, its local time and its sentence. */
export const EXPORT_COLUMNS = ['seq', 'id', 'at', 'localTime', 'timeZone', 'type', 'description', 'actor', 'compartment', 'dossier', 'data', 'prevHash', 'hash'];
