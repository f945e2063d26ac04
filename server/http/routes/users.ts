// Accounts from the staff console, for admins: the same actions as `locker user ...`, audited with
// the admin as the actor.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.ts';
import { NewUserBody, PasswordBody, UnlockReply, UserItem, UserList, UserParams, errorReplies } from '../schemas.ts';

const security = [{ bearer: [] }];
const tags = ['admin'];

export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const admin = app.requireRole('admin');
  const auth = app.locker.auth;

  app.get(
    '/api/v1/users',
    { preHandler: admin, schema: { tags, summary: 'Every account: name, role and state (never a password hash)', security, response: { 200: UserList, ...errorReplies } } },
    async () => ({ users: auth.listUsers() }),
  );

  app.post(
    '/api/v1/users',
    {
      preHandler: admin,
      schema: { tags, summary: 'Create an account', security, body: NewUserBody, response: { 201: UserItem, ...errorReplies } },
    },
    async (request, reply) => {
      const { username, role, password } = request.body;
      await auth.addUser(username, role, password, actorOf(request));
      return reply.status(201).send(auth.getUser(username));
    },
  );

  app.post(
    '/api/v1/users/:name/password',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: "Set an account's password: its other sessions end",
        security,
        params: UserParams,
        body: PasswordBody,
        response: { 200: UserItem, ...errorReplies },
      },
    },
    async (request) => {
      const { name } = request.params;
      // An admin setting their own password stays logged in on this session.
      const own = request.principal!.username === name ? (request.headers.authorization ?? '').slice('Bearer '.length) : undefined;
      await auth.setPassword(name, request.body.password, actorOf(request), own);
      return auth.getUser(name);
    },
  );

  app.post(
    '/api/v1/users/:name/disable',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Disable an account: logins refused, its tokens stop at once; 409 cannot_disable_self',
        security,
        params: UserParams,
        response: { 200: UserItem, ...errorReplies },
      },
    },
    async (request) => {
      auth.disable(request.params.name, actorOf(request));
      return auth.getUser(request.params.name);
    },
  );

  app.post(
    '/api/v1/users/:name/enable',
    { preHandler: admin, schema: { tags, summary: 'Enable a disabled account', security, params: UserParams, response: { 200: UserItem, ...errorReplies } } },
    async (request) => {
      auth.enable(request.params.name, actorOf(request));
      return auth.getUser(request.params.name);
    },
  );

  app.post(
    '/api/v1/users/:name/unlock',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Lift the block on an account after failed logins (blocks on network addresses stay)',
        security,
        params: UserParams,
        response: { 200: UnlockReply, ...errorReplies },
      },
    },
    async (request) => {
      const r = auth.unlock(request.params.name, actorOf(request));
      return { user: auth.getUser(request.params.name), ...r };
    },
  );
};
