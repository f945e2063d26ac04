// One error handler for the central API: a clear 4xx for bad input, 503 while the database is
// unreachable (SQLite busy or full, PostgreSQL down), nothing internal in a 5xx.
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { DomainError } from '../../../domain/errors.ts';

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_request'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
};

/** SQLite's and PostgreSQL's "cannot store or read right now" errors, and a refused connection. */
export function isStorageUnavailable(code: string | undefined): boolean {
  if (!code) return false;
  return /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN)/.test(code) || /^(08|53|57P)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND'].includes(code);
}

async function errors(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError & { code?: string }, request, reply) => {
    if (err instanceof DomainError) return reply.status(err.status).headers(err.headers).send({ error: err.code, message: err.message });
    if (err.validation) return reply.status(400).send({ error: 'invalid_request', message: err.message });
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) return reply.status(mapped[0]).send({ error: mapped[1], message: err.message });
    if (isStorageUnavailable(err.code) || /timeout exceeded when trying to connect|Connection terminated/i.test(err.message)) {
      request.log.error({ err: err.message }, 'storage unavailable');
      return reply.status(503).send({ error: 'storage_unavailable', message: 'The audit database cannot be reached right now.' });
    }
    if (err instanceof SyntaxError || (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)) {
      return reply.status(err.statusCode && err.statusCode < 500 ? err.statusCode : 400).send({ error: 'invalid_request', message: err.message });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: 'internal_error', message: 'Internal error' });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` });
  });
}

export default fp(errors, { name: 'central-errors' });
