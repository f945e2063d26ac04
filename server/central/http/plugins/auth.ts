// Bearer sessions and role checks for the central API: auditors read, admins also act.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../../domain/errors.ts';
import type { CentralPrincipal, CentralRole } from '../../auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    centralUser: CentralPrincipal | null;
  }
  interface FastifyInstance {
    centralRole(...roles: CentralRole[]): (request: FastifyRequest) => Promise<void>;
  }
}

export const bearerToken = (request: FastifyRequest): string | null => {
  const match = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(request.headers.authorization ?? '');
  return match ? match[1] : null;
};

async function auth(app: FastifyInstance) {
  app.decorateRequest('centralUser', null);
  app.decorate('centralRole', (...roles: CentralRole[]) => async (request: FastifyRequest) => {
    const token = bearerToken(request);
    const principal = token ? await app.central.auth.authenticate(token) : null;
    if (!principal) throw new DomainError(401, 'unauthorized', 'Log in first (Authorization: Bearer <token>).');
    if (!roles.includes(principal.role)) throw new DomainError(403, 'forbidden', `This needs the role ${roles.join(' or ')}.`);
    request.centralUser = principal;
  });
}

export default fp(auth, { name: 'central-auth', dependencies: ['central-context'] });
