import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Accepted, PickupBody, PickupReply, ResendBody, errorReplies } from '../schemas.ts';

export const pickupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/v1/pickups',
    {
      schema: {
        tags: ['kiosk'],
        summary: 'Collect a dossier: the phone number and the SMS code open its door',
        body: PickupBody,
        response: { 200: PickupReply, ...errorReplies },
      },
    },
    async (request) => app.locker.pickups.pickup(request.body.phone, request.body.code),
  );

  app.post(
    '/api/v1/pickups/resend',
    {
      schema: {
        tags: ['kiosk'],
        summary: 'Ask for a new code; always 202, whether or not a dossier exists',
        body: ResendBody,
        response: { 202: Accepted, ...errorReplies },
      },
    },
    async (request, reply) => {
      app.locker.pickups.resend(request.body.phone);
      return reply.status(202).send({ status: 'accepted' });
    },
  );
};
