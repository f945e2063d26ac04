import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SimDoorBody, SimDoorParams, SimDoorReply, errorReplies } from '../schemas.ts';
import { notFound } from '../../domain/errors.ts';

/** Registered only with LOCKER_DOORS=sim: a person's hand on a simulated door. */
export const simRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const sim = app.locker.sim;
  if (!sim) return;
  app.post(
    '/api/v1/sim/compartments/:number/door',
    {
      schema: {
        tags: ['simulator'],
        summary: 'Open or close a simulated door (opening a locked door is a forced open)',
        params: SimDoorParams,
        body: SimDoorBody,
        response: { 200: SimDoorReply, ...errorReplies },
      },
    },
    async (request) => {
      const number = Number(request.params.number);
      if (!sim.setDoor(number, request.body.open)) throw notFound(`compartment ${number}`);
      return { number, door: request.body.open ? ('open' as const) : ('closed' as const) };
    },
  );
};
