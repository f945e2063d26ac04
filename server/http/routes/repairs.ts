// Staff repairs on a dossier: correct the phone, move the deadline, reveal the phone, find by phone.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.ts';
import { DossierMatches, ExtendBody, PhoneCorrectionBody, PhoneSearchBody, RevealedPhone } from '../repair-schemas.ts';
import { CodeParams, Dossier, ReasonBody, errorReplies } from '../schemas.ts';

const security = [{ bearer: [] }];

export const repairRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const staff = app.requireRole('staff', 'admin');
  const repairs = () => app.locker.repairs;

  app.post(
    '/api/v1/dossiers/:code/phone',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Correct the phone number; a ready dossier gets a new code at the new number (the old code stops)',
        security,
        params: CodeParams,
        body: PhoneCorrectionBody,
        response: { 200: Dossier, ...errorReplies },
      },
    },
    async (request) => repairs().correctPhone(actorOf(request), request.params.code, request.body.phone, request.body.reason),
  );

  app.post(
    '/api/v1/dossiers/:code/extend',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'A new deadline: a ready dossier keeps its code; an expired one is ready again with a new code by SMS',
        security,
        params: CodeParams,
        body: ExtendBody,
        response: { 200: Dossier, ...errorReplies },
      },
    },
    async (request) => {
      const { days, until, reason } = request.body;
      return repairs().extend(actorOf(request), request.params.code, { days, until }, reason);
    },
  );

  app.post(
    '/api/v1/dossiers/:code/reveal-phone',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'The full phone number, e.g. to call the citizen; every reveal is audited with its reason',
        security,
        params: CodeParams,
        body: ReasonBody,
        response: { 200: RevealedPhone, ...errorReplies },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return repairs().revealPhone(actorOf(request), request.params.code, request.body.reason);
    },
  );

  app.post(
    '/api/v1/dossiers/search',
    {
      preHandler: staff,
      schema: {
        tags: ['staff'],
        summary: 'Dossiers of one phone number, newest first (audited as a lookup, with the number masked)',
        security,
        body: PhoneSearchBody,
        response: { 200: DossierMatches, ...errorReplies },
      },
    },
    async (request) => ({ dossiers: repairs().findByPhone(actorOf(request), request.body.phone, request.body.reason) }),
  );
};
