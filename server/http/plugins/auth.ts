// Bearer sessions and role checks. Routes declare the roles they admit; nothing else gets in.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal, Role } from '../../domain/auth-service.ts';
import { DomainError } from '../../domain/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    requireRole(...roles: Role[]): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

async function auth(app: FastifyInstance) {
  app.decorateRequest('principal', null);
  app.decorate('requireRole', (...roles: Role[]) => async (request: FastifyRequest) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(header);
    const principal = match ? app.locker.auth.authenticate(match[1]) : null;
    if (!principal) throw new DomainError(401, 'unauthorized', 'Log in first (Authorization: Bearer <token>).');
    if (!roles.includes(principal.role)) throw new DomainError(403, 'forbidden', `This needs the role ${roles.join(' or ')}.`);
    request.principal = principal;
  });
}

export default fp(auth, { name: 'auth', dependencies: ['locker-context'] });

export const actorOf = (request: FastifyRequest) => `staff:${request.principal!.username}`;
