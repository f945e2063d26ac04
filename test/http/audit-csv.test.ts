// The trail as CSV from the locker: streamed row by row (memory does not grow with the trail),
// local time (LOCKER_TIMEZONE) beside the ISO UTC time, a sentence per event, the same filters
// as the JSON pages, and no phone number or pickup code.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';
import { seedAuditEvents } from '../helpers/seed.ts';

let t: TestLocker;
afterEach(async () => {
  await t?.stop();
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Splits RFC 4180 CSV into rows of cells (quoted cells may hold commas, quotes and line ends). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

async function csv(query: string, token?: string) {
  const res = await fetch(`${t.url}/api/v1/audit.csv${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  // Decoded keeping the BOM, which spreadsheets need and fetch's text() would drop.
  return { res, text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer()) };
}

describe('the CSV export', () => {
  it('gives the local time (LOCKER_TIMEZONE) beside the ISO UTC time, and a sentence per event', async () => {
    t = await startLocker();
    t.clock.t = Date.parse('2026-12-03T01:30:00Z');
    const staff = await t.login('staff', 'mai');
    const door = await loadDossier(t, staff, 'H29.12-251203-0042', '0912345678');
    const code = t.codeFor('0912345678');
    const ok = await t.api('POST', '/api/v1/pickups', { phone: '0912345678', code });
    expect(ok.status).toBe(200);
    const auditor = await t.login('auditor');
    const { res, text } = await csv('?dossier=251203-0042', auditor);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-[0-9-]+\.csv"$/);
    expect(text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parseCsv(text.slice(1));
    expect(header).toEqual(['seq', 'id', 'at', 'localTime', 'timeZone', 'type', 'description', 'actor', 'compartment', 'dossier', 'data', 'prevHash', 'hash']);
    const col = (name: string) => header.indexOf(name);
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows) {
      expect(r).toHaveLength(header.length);
      expect(r[col('dossier')]).toBe('H29.12-251203-0042');
      expect(r[col('at')]).toBe('2026-12-03T01:30:00.000Z');
      // 01:30 UTC is 08:30 in Ho Chi Minh City: the time the clerk saw on the wall.
      expect(r[col('localTime')]).toBe('2026-12-03 08:30:00');
      expect(r[col('timeZone')]).toBe('Asia/Ho_Chi_Minh');
    }
    const pickup = rows.find((r) => r[col('type')] === 'pickup.succeeded')!;
    expect(pickup[col('description')]).toBe(`Công dân nhận hồ sơ H29.12-251203-0042 tại ngăn ${door}`);
    expect(pickup[col('actor')]).toBe('citizen');
    const english = parseCsv((await csv('?dossier=251203-0042&type=pickup.succeeded&lang=en', auditor)).text.slice(1));
    expect(english[1][col('description')]).toBe(`A citizen collected dossier H29.12-251203-0042 at door ${door}`);
    // Seq order, the chain's own links intact in the file.
    const seqs = rows.map((r) => Number(r[col('seq')]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // Masked phone only; never the number or the code.
    expect(text).toContain('09******78');
    expect(text).not.toContain('0912345678');
    expect(text).not.toContain('912345678');
    expect(text).not.toContain(code);
  });

  it('follows LOCKER_TIMEZONE', async () => {
    t = await startLocker({ env: { LOCKER_TIMEZONE: 'Europe/Berlin' } });
    t.clock.t = Date.parse('2026-07-01T10:00:00Z');
    seedAuditEvents(t, 1);
    const auditor = await t.login('auditor');
    const rows = parseCsv((await csv('?type=dossier.loading', auditor)).text.slice(1));
    expect(rows[1].slice(2, 5)).toEqual(['2026-07-01T10:00:00.000Z', '2026-07-01 12:00:00', 'Europe/Berlin']);
    const meta = await t.api('GET', '/api/v1/audit/meta', undefined, auditor);
    expect(meta.body.timeZone).toBe('Europe/Berlin');
  });

  it('is for auditors and admins only, and takes the same filters as the pages', async () => {
    t = await startLocker();
    seedAuditEvents(t, 80);
    const staff = await t.login('staff');
    expect((await csv('')).res.status).toBe(401);
    expect((await csv('', staff)).res.status).toBe(403);
    const admin = await t.login('admin');
    const auditor = await t.login('auditor');
    expect((await csv('', admin)).res.status).toBe(200);
    for (const q of ['type=door.opened', 'compartment=3', 'actor=citizen', 'dossier=251203-00004', 'from=2026-11-23T15:10:00Z&to=2026-11-23T15:20:00Z']) {
      const page = await t.api('GET', `/api/v1/audit?${q}&limit=1000`, undefined, auditor);
      const rows = parseCsv((await csv(`?${q}`, auditor)).text.slice(1)).slice(1);
      expect(rows.length, q).toBeGreaterThan(0);
      expect(rows.map((r) => Number(r[0])), q).toEqual(page.body.events.map((e: any) => e.seq));
    }
  });

  it('streams a 100,000-event trail: the first bytes come at once and the heap does not grow with the trail', async () => {
    t = await startLocker();
    seedAuditEvents(t, 100_000);
    const auditor = await t.login('auditor');
    gc();
    const baseline = process.memoryUsage().heapUsed;
    const started = performance.now();
    const res = await fetch(`${t.url}/api/v1/audit.csv`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let bytes = 0;
    let firstAt = 0;
    let rows = 0;
    let peak = 0;
    let nextSample = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (bytes === 0) firstAt = performance.now() - started;
      bytes += value.length;
      for (const b of value) if (b === 10) rows++;
      if (bytes >= nextSample) {
        // Garbage collected first: what is left is what the export holds on to.
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
        nextSample += 2 * 1024 * 1024;
      }
    }
    const totalMs = performance.now() - started;
    // The header and every event (the seeded ones and the auditor's login).
    expect(rows).toBe(t.locker.ctx.audit.latestSeq() + 1);
    expect(bytes).toBeGreaterThan(30 * 1024 * 1024);
    // The file is over 30 MB; a CSV built in memory would hold all of it (and its rows) at once.
    expect(peak, `heap grew by ${Math.round(peak / 1024 / 1024)} MB`).toBeLessThan(12 * 1024 * 1024);
    expect(firstAt).toBeLessThan(totalMs / 4);
    console.log(`CSV of ${rows} rows: ${Math.round(bytes / 1024 / 1024)} MB, first bytes after ${Math.round(firstAt)} ms, all after ${Math.round(totalMs)} ms, heap peak +${(peak / 1024 / 1024).toFixed(1)} MB`);
  }, 120_000);
});
