import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.ts';
import { CompartmentItem, CompartmentList, CompartmentParams, DisableBody, ReasonBody, errorReplies } from '../schemas.ts';

export const compartmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ bearer: [] }];
  app.get(
    '/api/v1/compartments',
    {
      preHandler: app.requireRole('staff', 'admin', 'auditor'),
      schema: { tags: ['staff'], summary: 'Every compartment: its booking and what its door sensor says', security, response: { 200: CompartmentList, ...errorReplies } },
    },
    async () => ({ compartments: app.locker.compartments.list() }),
  );

  const staff = app.requireRole('staff', 'admin');
  app.post(
    '/api/v1/compartments/:number/disable',
    {
      preHandler: staff,
      // The body is optional: no body means no reason given.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags: ['staff'],
        summary: 'Take a compartment out of service (no new bookings); a dossier inside stays',
        security,
        params: CompartmentParams,
        body: DisableBody,
        response: { 200: CompartmentItem, ...errorReplies },
      },
    },
    async (request) => app.locker.compartmentAdmin.disable(actorOf(request), Number(request.params.number), request.body.reason),
  );
  app.post(
    '/api/v1/compartments/:number/enable',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Put a compartment back in service; also clears a fault once repaired',
        security,
        params: CompartmentParams,
        response: { 200: CompartmentItem, ...errorReplies },
      },
    },
    async (request) => app.locker.compartmentAdmin.enable(actorOf(request), Number(request.params.number)),
  );
  app.post(
    '/api/v1/compartments/:number/unlock',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Unlock a door once more (a withdraw nobody opened in time, a look inside), with the reason',
        security,
        params: CompartmentParams,
        body: ReasonBody,
        response: { 200: CompartmentItem, ...errorReplies },
      },
    },
    async (request) => app.locker.compartmentAdmin.unlock(actorOf(request), Number(request.params.number), request.body.reason),
  );
  app.post(
    '/api/v1/compartments/:number/release',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Staff checked the compartment and it is empty: end its booking (a dossier still booked is withdrawn)',
        security,
        params: CompartmentParams,
        body: ReasonBody,
        response: { 200: CompartmentItem, ...errorReplies },
      },
    },
    async (request) => app.locker.compartmentAdmin.release(actorOf(request), Number(request.params.number), request.body.reason),
  );
};
