import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.ts';
import { CodeParams, Dossier, DossierList, DossierListQuery, DossierStep, RegisterBody, RegisterReply, errorReplies } from '../schemas.ts';

const security = [{ bearer: [] }];

export const dossierRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const staff = app.requireRole('staff', 'admin');

  app.post(
    '/api/v1/dossiers',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Register a dossier: books the smallest free compartment that fits and unlocks it for loading',
        security,
        body: RegisterBody,
        response: { 201: RegisterReply, ...errorReplies },
      },
    },
    async (request, reply) => {
      const result = await app.locker.dossiers.register(actorOf(request), request.body);
      return reply.status(201).send(result);
    },
  );

  app.post(
    '/api/v1/dossiers/:code/loaded',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Confirm the dossier is inside and the door shut: the pickup code goes out by SMS',
        description:
          'With LOCKER_AUTO_CONFIRM (the default) the door closing after the loading unlock already confirms it; calling this then answers 200 with the same body and sends nothing more.',
        security,
        params: CodeParams,
        response: { 200: DossierStep, ...errorReplies },
      },
    },
    async (request) => app.locker.dossiers.markLoaded(actorOf(request), request.params.code),
  );

  app.post(
    '/api/v1/dossiers/:code/withdraw',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Take a dossier back: its code stops working and the door unlocks',
        security,
        params: CodeParams,
        response: { 200: DossierStep, ...errorReplies },
      },
    },
    async (request) => app.locker.dossiers.withdraw(actorOf(request), request.params.code),
  );

  app.post(
    '/api/v1/dossiers/:code/resend',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Send the citizen a new pickup code (the old one stops working)',
        security,
        params: CodeParams,
        response: { 200: Dossier, ...errorReplies },
      },
    },
    async (request) => app.locker.dossiers.resendByStaff(actorOf(request), request.params.code),
  );

  app.get(
    '/api/v1/dossiers/:code',
    {
      preHandler: staff,
      schema: { tags: ['staff'], summary: 'One dossier (the latest with this code)', security, params: CodeParams, response: { 200: Dossier, ...errorReplies } },
    },
    async (request) => app.locker.dossiers.get(request.params.code),
  );

  app.get(
    '/api/v1/dossiers',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Dossiers, newest first; ?status=expired lists those waiting to be withdrawn',
        security,
        querystring: DossierListQuery,
        response: { 200: DossierList, ...errorReplies },
      },
    },
    async (request) => {
      const limit = Math.min(Math.max(Number(request.query.limit ?? 200), 1), 1000);
      return { dossiers: app.locker.dossiers.list(request.query.status, limit) };
    },
  );
};
