// The web pages (kiosk, staff console, auditor view, simulator panel) and the two small public
// endpoints they need. Everything is served from memory, read once at start-up: the Pi's SD card
// is slow and the files are small. Nothing here is loaded from outside the locker.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { appRoot } from '../../../locker-map/app-root.ts';
import type { LockerMap } from '../../../locker-map/schema.ts';
import { loadVoiceClips } from '../kiosk-voice-files.ts';
import { errorReplies } from '../schemas.ts';

export const WEB_ROOT = join(appRoot(import.meta.url), 'server', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function loadAssets(root: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const type = TYPES[extname(name)];
      if (!type) continue;
      const body = readFileSync(path);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      out.set(relative(root, path).split(sep).join('/'), { body, type, etag });
    }
  };
  walk(root);
  return out;
}

/** The bank as the kiosk draws it: where each door is and how big. No booking, no door state. */
export function kioskLayout(map: LockerMap) {
  const compartments = map.compartments
    .map((c) => ({ number: c.number, size: c.size, column: c.column, row: c.row }))
    .sort((a, b) => a.number - b.number);
  return {
    columns: Math.max(...compartments.map((c) => c.column)),
    rows: Math.max(...compartments.map((c) => c.row)),
    compartments,
  };
}

const Size = Type.Union([Type.Literal('S'), Type.Literal('M'), Type.Literal('L')]);
const Place = { number: Type.Integer(), size: Size, column: Type.Integer(), row: Type.Integer() };
const KioskLayout = Type.Object({
  columns: Type.Integer(),
  rows: Type.Integer(),
  compartments: Type.Array(Type.Object(Place)),
});
const KioskSettings = Type.Object({
  office: Type.Object({
    hotline: Type.Union([Type.String(), Type.Null()]),
    hours: Type.Union([Type.String(), Type.Null()]),
  }),
  voice: Type.Object({
    on: Type.Boolean(),
    volume: Type.Integer({ minimum: 0, maximum: 100 }),
    clips: Type.Record(Type.String(), Type.Array(Type.String()), { description: 'spoken prompts that exist, per language' }),
  }),
});
const SimDoors = Type.Object({
  compartments: Type.Array(
    Type.Object({
      ...Place,
      door: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('unknown')]),
      unlocked: Type.Boolean({ description: 'the latch is released right now (an unlock window is open)' }),
    }),
  ),
});

export const pageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const assets = loadAssets(WEB_ROOT);
  const ctx = app.locker;

  const send = (name: string) => async (request: { headers: Record<string, string | string[] | undefined> }, reply: any) => {
    const asset = assets.get(name);
    if (!asset) return reply.status(404).send({ error: 'not_found', message: `No file ${name}` });
    // Revalidate every time: after an upgrade the kiosk must not keep yesterday's script.
    reply.header('cache-control', 'no-cache').header('etag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  const page = { schema: { hide: true } };
  app.get('/', page, send('kiosk.html'));
  app.get('/staff', page, send('staff.html'));
  app.get('/audit', page, send('audit.html'));
  app.get('/favicon.ico', page, send('favicon.svg'));
  app.get('/web/*', page, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    return send(name)(request, reply);
  });

  const layout = kioskLayout(ctx.map);
  app.get(
    '/api/v1/kiosk/layout',
    {
      schema: {
        tags: ['kiosk'],
        summary: 'Where each compartment sits in the bank (for drawing it): numbers, sizes, columns, rows; no status',
        response: { 200: KioskLayout, ...errorReplies },
      },
    },
    async () => layout,
  );

  // What the kiosk shows and says beyond its own texts: the office's contact, and its voice.
  // Public like the layout, so it holds nothing about bookings or doors.
  const office = ctx.config.smsOptions.office ?? { hotline: null, hours: null };
  const voice = loadVoiceClips(ctx.config.kiosk.voiceDir);
  const settings = {
    office: { hotline: office.hotline, hours: office.hours },
    voice: { on: ctx.config.kiosk.voice, volume: ctx.config.kiosk.volume, clips: ctx.config.kiosk.voice ? voice.clips : {} },
  };
  app.get(
    '/api/v1/kiosk/settings',
    {
      schema: {
        tags: ['kiosk'],
        summary: "The office's hotline and hours for the kiosk's help line, and its voice (on, volume, which clips exist)",
        response: { 200: KioskSettings, ...errorReplies },
      },
    },
    async () => settings,
  );
  app.get('/api/v1/kiosk/voice/:lang/:clip', page, async (request, reply) => {
    const { lang, clip } = request.params as { lang: string; clip: string };
    const file = ctx.config.kiosk.voice && clip.endsWith('.wav') ? voice.file(lang, clip.slice(0, -4)) : null;
    const body = file ? await readFile(file).catch(() => null) : null;
    if (!body) return reply.status(404).send({ error: 'not_found', message: 'No such clip' });
    return reply.header('cache-control', 'no-cache').type('audio/wav').send(body);
  });

  const sim = ctx.sim;
  if (!sim) return;
  app.get('/sim', page, send('sim.html'));
  app.get(
    '/api/v1/sim/doors',
    {
      schema: {
        tags: ['simulator'],
        summary: 'Every simulated door: open or closed, and whether its latch is released (only with LOCKER_DOORS=sim)',
        response: { 200: SimDoors, ...errorReplies },
      },
    },
    async () => {
      const now = ctx.clock.now();
      const rows = new Map(ctx.compartments.rows().map((r) => [r.number, r]));
      return {
        compartments: layout.compartments.map((c) => ({
          ...c,
          door: sim.doorState(c.number),
          unlocked: (rows.get(c.number)?.unlocked_until ?? 0) >= now,
        })),
      };
    },
  );
};
