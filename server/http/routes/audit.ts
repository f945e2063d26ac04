import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditCsvQuery, AuditMeta, AuditPage, AuditQuery, AuditVerify, errorReplies } from '../schemas.ts';
import { DomainError } from '../../domain/errors.ts';
import { AuditQuery as TrailQuery } from '../../domain/audit-query.ts';
import { readAuditFilter } from '../audit-filter.ts';
import { auditCsv } from '../audit-csv.ts';
import { EVENT_TYPES } from '../../web/lib/event-text.js';

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const auditors = app.requireRole('auditor', 'admin');
  const security = [{ bearer: [] }];
  const trail = new TrailQuery(app.locker.store);
  const timeZone = app.locker.config.timeZone;
  // A type the trail holds that this version does not write (an older one did) can still be asked for.
  const knownTypes = () => new Set([...EVENT_TYPES, ...trail.typesPresent()]);

  app.get(
    '/api/v1/audit',
    {
      preHandler: auditors,
      schema: {
        tags: ['audit'],
        summary: 'The audit trail in seq order (or newest first), paged, optionally filtered by time, type, compartment, dossier and actor',
        security,
        querystring: AuditQuery,
        response: { 200: AuditPage, ...errorReplies },
      },
    },
    async (request) => {
      const q = request.query;
      const after = Number(q.after ?? 0);
      const limit = Number(q.limit ?? 100);
      if (limit < 1 || limit > 1000) throw new DomainError(400, 'invalid_request', 'limit must be between 1 and 1000');
      const filter = readAuditFilter(q, timeZone, knownTypes);
      const before = q.before === undefined ? undefined : Number(q.before);
      const page = trail.page(filter, { after, before, limit, order: q.order ?? 'asc' });
      return q.count === 'true' ? { ...page, total: trail.count(filter) } : page;
    },
  );

  app.get(
    '/api/v1/audit/meta',
    {
      preHandler: auditors,
      schema: { tags: ['audit'], summary: 'What the auditor view needs to read the trail: the office time zone and the event types', security, response: { 200: AuditMeta, ...errorReplies } },
    },
    async () => ({ timeZone, types: [...knownTypes()] }),
  );

  app.get(
    '/api/v1/audit.csv',
    {
      preHandler: auditors,
      schema: {
        tags: ['audit'],
        summary: 'The (filtered) trail as CSV in seq order, streamed row by row: ISO UTC time beside the local time (LOCKER_TIMEZONE) and a sentence per event',
        security,
        querystring: AuditCsvQuery,
        produces: ['text/csv'],
      },
    },
    async (request, reply) => {
      const filter = readAuditFilter(request.query, timeZone, knownTypes);
      const stamp = new Date(app.locker.clock.now()).toISOString().slice(0, 19).replace(/[:T]/g, '-');
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${stamp}.csv"`)
        .header('cache-control', 'no-store');
      return reply.send(Readable.from(auditCsv(trail.chunks(filter), timeZone, request.query.lang ?? 'vi')));
    },
  );

  app.get(
    '/api/v1/audit/verify',
    { preHandler: auditors, schema: { tags: ['audit'], summary: 'Recompute the hash chain', security, response: { 200: AuditVerify, ...errorReplies } } },
    async () => {
      const r = app.locker.audit.verify();
      return {
        ok: r.ok,
        count: r.count,
        head: r.head,
        ...(r.ok ? {} : { brokenAt: r.brokenAt, reason: r.reason }),
        anchored: r.anchored,
        unconfirmed: r.unconfirmed,
      };
    },
  );
};
