import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../../domain/errors.ts';
import { KioskDoorWatch } from '../kiosk-door-watch.ts';
import { Accepted, KioskDoorReply, PickupBody, PickupReply, ResendBody, errorReplies } from '../schemas.ts';

/** After the unlock window: time enough to take the paper out and shut the door. */
const DOOR_WATCH_EXTRA_MS = 10 * 60_000;

export const pickupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.locker;
  const watch = new KioskDoorWatch(ctx.compartments, ctx.clock, ctx.config.unlockWindowSec * 1000 + DOOR_WATCH_EXTRA_MS);

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
    async (request) => {
      const { compartment } = await ctx.pickups.pickup(request.body.phone, request.body.code);
      return { compartment, doorToken: watch.issue(compartment) };
    },
  );

  app.get(
    '/api/v1/kiosk/door/:token',
    {
      schema: {
        tags: ['kiosk'],
        summary: "The door a pickup opened: not opened yet, open, or shut again (only for that pickup's doorToken, for a few minutes)",
        params: Type.Object({ token: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: KioskDoorReply, ...errorReplies },
      },
    },
    async (request, reply) => {
      const door = watch.state(request.params.token);
      if (!door) throw notFound('Door token');
      reply.header('cache-control', 'no-store');
      return { door };
    },
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
      ctx.pickups.resend(request.body.phone);
      return reply.status(202).send({ status: 'accepted' });
    },
  );
};
