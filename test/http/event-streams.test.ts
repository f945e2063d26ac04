// Live streams that stop reading: dropped once they fall behind, a few per session, memory bounded.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
/** The backlog one console may have (README "Live streams"). */
const LIMIT = 256 * 1024;
import { startLocker, type TestLocker } from '../helpers/locker.ts';

// What is measured is the stream, not the disk: on tmpfs a commit costs no fsync, so the ~4 MB the
// kernel takes for each non-reading socket is passed in seconds.
const dataDir = () => mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'locker-streams-'));

/** A console that opens the stream and never reads a byte of it. */
function deafStream(url: string, token: string): net.Socket {
  const u = new URL(url);
  const s = net.connect(Number(u.port), u.hostname);
  s.on('error', () => undefined);
  s.write(`GET /api/v1/events/stream HTTP/1.1\r\nhost: ${u.host}\r\nauthorization: Bearer ${token}\r\n\r\n`);
  s.pause();
  return s;
}

async function readStream(url: string, token: string) {
  const ac = new AbortController();
  const res = await fetch(`${url}/api/v1/events/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  let text = '';
  let done = false;
  if (res.ok && res.body) {
    void (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString('utf8');
      } catch {
        // aborted
      }
      done = true;
    })();
  } else await res.text();
  return { status: res.status, text: () => text, done: () => done, close: () => ac.abort() };
}

/** Streams the service holds open, read from its metrics (as an operator would). */
async function openStreams(t: TestLocker): Promise<number> {
  const m = /locker_event_streams (\d+)/.exec((await t.api('GET', '/metrics')).body as string);
  return m ? Number(m[1]) : -1;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

describe('live streams that fall behind', () => {
  let t: TestLocker | null = null;
  let dir: string | null = null;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    t = null;
    dir = null;
  });

  it('drops 32 consoles that never read once they fall behind, keeps each backlog under 256 KiB, and lets a new console in', async () => {
    dir = dataDir();
    t = await startLocker({ dataDir: dir });
    const serverSockets: net.Socket[] = [];
    t.locker.http.server.on('connection', (s: net.Socket) => serverSockets.push(s));
    const tokens: string[] = [];
    for (let i = 0; i < 8; i++) tokens.push(await t.login('staff', `clerk${i}`));
    for (let i = 0; i < 32; i++) sockets.push(deafStream(t.url, tokens[i % 8]));
    await pause(500);
    const before = await readStream(t.url, await t.login('admin', 'boss'));
    expect(before.status).toBe(503); // all slots taken, as long as the 32 keep up
    before.close();

    let maxBacklog = 0;
    let commits = 0;
    const sample = () => {
      for (const s of serverSockets) maxBacklog = Math.max(maxBacklog, s.writableLength);
    };
    // Door changes until every deaf stream is gone; a backlog past twice the limit is a failure already.
    const deadline = Date.now() + 60_000;
    while ((await openStreams(t)) !== 0 && maxBacklog <= 2 * LIMIT && Date.now() < deadline) {
      for (let i = 0; i < 200; i++) {
        const n = (commits % 24) + 1;
        t.sim.setDoor(n, true);
        t.sim.setDoor(n, false);
        commits += 2;
      }
      await pause(60);
      sample();
    }
    sample();
    expect(maxBacklog).toBeLessThanOrEqual(LIMIT);
    expect(await openStreams(t)).toBe(0);
    

    const fresh = await readStream(t.url, tokens[3]);
    expect(fresh.status).toBe(200);
    await until(() => fresh.text().includes('event: snapshot'), 'a fresh snapshot');
    fresh.close();
    const metrics = (await t.api('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/locker_event_streams_dropped_total\{reason="too_slow"\} 32/);
    expect(metrics).toMatch(/locker_event_stream_buffered_bytes_max \d+/);
  }, 90_000);

  it('holds at most 4 streams per session: a fifth replaces the oldest, which is told why, and other sessions keep theirs', async () => {
    t = await startLocker();
    const mine = await t.login('staff', 'clerk');
    const other = await t.login('staff', 'colleague');
    const theirs = await readStream(t.url, other);
    const streams: Awaited<ReturnType<typeof readStream>>[] = [];
    for (let i = 0; i < 4; i++) streams.push(await readStream(t.url, mine));
    await until(() => streams.every((s) => s.text().includes('event: snapshot')), 'four snapshots');
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200]);
    const fifth = await readStream(t.url, mine);
    expect(fifth.status).toBe(200);
    await until(() => streams[0].done(), 'the oldest stream to end');
    expect(streams[0].text()).toMatch(/event: end\ndata: \{"reason":"replaced","perSession":4\}/);
    expect(streams.slice(1).some((s) => s.done())).toBe(false);
    expect(theirs.done()).toBe(false);
    expect(await openStreams(t)).toBe(5);
    for (const s of [...streams, fifth, theirs]) s.close();
  });
});
