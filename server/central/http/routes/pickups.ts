import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '../../../domain/errors.ts';
import { decodeCursor, listPickups, type PickupFilter } from '../../queries.ts';
import { CsvQuery, PickupPage, PickupQuery, errorReplies } from '../schemas.ts';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;
const DAY_MS = 24 * 3600 * 1000;

/** An ISO time; without a zone it is UTC. A date alone means its whole day: from its start, to its end. */
export function parseTime(name: string, value: string, end: boolean): number {
  let ms: number;
  if (DATE_ONLY.test(value)) ms = Date.parse(`${value}T00:00:00Z`) + (end ? DAY_MS - 1 : 0);
  else if (DATE_TIME.test(value)) ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}Z`);
  else ms = NaN;
  if (!Number.isFinite(ms)) throw new DomainError(400, 'invalid_request', `${name} must be an ISO time such as 2026-11-23T15:00:00Z or 2026-11-23, got "${value}"`);
  return ms;
}

function filterOf(q: { dossier?: string; locker?: string; from?: string; to?: string }): PickupFilter {
  const f: PickupFilter = {};
  if (q.dossier !== undefined) f.dossier = q.dossier;
  if (q.locker !== undefined) f.locker = q.locker;
  if (q.from !== undefined) f.fromMs = parseTime('from', q.from, false);
  if (q.to !== undefined) f.toMs = parseTime('to', q.to, true);
  if (f.fromMs !== undefined && f.toMs !== undefined && f.fromMs > f.toMs) throw new DomainError(400, 'invalid_request', 'from is after to');
  return f;
}

/** RFC 4180 quoting; a cell a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return typeof v === 'string' ? `"${s.replaceAll('"', '""')}"` : s;
}

const CSV_COLUMNS = ['locker', 'dossier', 'compartment', 'at', 'eventId', 'seq', 'verified'] as const;

export const pickupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const readers = app.centralRole('auditor', 'admin');
  const security = [{ bearer: [] }];
  const ctx = app.central;

  app.get(
    '/api/v1/pickups',
    {
      preHandler: readers,
      schema: { tags: ['pickups'], summary: 'Who collected which dossier, where and when: oldest first, paged', security, querystring: PickupQuery, response: { 200: PickupPage, ...errorReplies } },
    },
    async (request) => {
      const limit = Number(request.query.limit ?? 100);
      if (limit < 1 || limit > 1000) throw new DomainError(400, 'invalid_request', 'limit must be between 1 and 1000');
      const after = request.query.after === undefined ? null : decodeCursor(request.query.after);
      return listPickups(ctx.db, filterOf(request.query), after, limit);
    },
  );

  app.get(
    '/api/v1/pickups.csv',
    {
      preHandler: readers,
      schema: { tags: ['pickups'], summary: 'The same search as CSV, every matching pickup (no paging)', security, querystring: CsvQuery, produces: ['text/csv'] },
    },
    async (request, reply) => {
      const filter = filterOf(request.query);
      const db = ctx.db;
      async function* rows() {
        yield `${CSV_COLUMNS.join(',')}\r\n`;
        let after: { atMs: number; n: number } | null = null;
        for (;;) {
          const page = await listPickups(db, filter, after, 1000);
          if (page.pickups.length > 0) yield page.pickups.map((p) => CSV_COLUMNS.map((c) => csvCell(p[c])).join(',')).join('\r\n') + '\r\n';
          if (page.next === null) return;
          after = decodeCursor(page.next);
        }
      }
      const stamp = new Date(ctx.clock.now()).toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="pickups-${stamp}.csv"`)
        .send(Readable.from(rows()));
    },
  );
};
