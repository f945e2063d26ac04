// The auditors' page: static files under server/central/web, read once at start-up and served
// from memory. Nothing is loaded from outside the service.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { appRoot } from '../../../../locker-map/app-root.ts';

export const CENTRAL_WEB_ROOT = join(appRoot(import.meta.url), 'server', 'central', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const pageRoutes: FastifyPluginAsync = async (app) => {
  const assets = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const name of readdirSync(CENTRAL_WEB_ROOT)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(CENTRAL_WEB_ROOT, name));
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  const send = (name: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const a = assets.get(name);
    if (!a) return reply.status(404).send({ error: 'not_found', message: `No file ${name}` });
    reply.header('cache-control', 'no-cache').header('etag', a.etag);
    if (request.headers['if-none-match'] === a.etag) return reply.status(304).send();
    return reply.type(a.type).send(a.body);
  };
  const page = { schema: { hide: true } };
  app.get('/', page, send('index.html'));
  app.get('/favicon.ico', page, send('favicon.svg'));
  app.get('/web/:name', page, async (request, reply) => send((request.params as { name: string }).name)(request, reply));
};
