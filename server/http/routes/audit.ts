import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditPage, AuditQuery, AuditVerify, errorReplies } from '../schemas.ts';
import { DomainError } from '../../domain/errors.ts';

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const auditors = app.requireRole('auditor', 'admin');
  const security = [{ bearer: [] }];

  app.get(
    '/api/v1/audit',
    {
      preHandler: auditors,
      schema: { tags: ['audit'], summary: 'The audit trail in seq order, paged', security, querystring: AuditQuery, response: { 200: AuditPage, ...errorReplies } },
    },
    async (request) => {
      const after = Number(request.query.after ?? 0);
      const limit = Number(request.query.limit ?? 100);
      if (limit < 1 || limit > 1000) throw new DomainError(400, 'invalid_request', 'limit must be between 1 and 1000');
      return app.locker.audit.list(after, limit);
    },
  );

  app.get(
    '/api/v1/audit/verify',
    { preHandler: auditors, schema: { tags: ['audit'], summary: 'Recompute the hash chain', security, response: { 200: AuditVerify, ...errorReplies } } },
    async () => {
      const r = app.locker.audit.verify();
      return { ok: r.ok, count: r.count, head: r.head, ...(r.ok ? {} : { brokenAt: r.brokenAt, reason: r.reason }) };
    },
  );
};
