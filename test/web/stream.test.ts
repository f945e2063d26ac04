// The staff console's live stream, read as a browser reads it (fetch + bearer header).
import { afterEach, describe, expect, it } from 'vitest';
import { loadDossier, startLocker, type TestLocker } from '../helpers/locker.ts';

interface Reader {
  text(): string;
  messages(): { name: string; data: any }[];
  close(): void;
}

async function openStream(t: TestLocker, token: string): Promise<{ status: number; reader: Reader }> {
  const ac = new AbortController();
  const res = await fetch(`${t.url}/api/v1/events/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  let text = '';
  if (res.body) {
    const decoder = new TextDecoder();
    (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted or closed by the server
      }
    })();
  }
  return {
    status: res.status,
    reader: {
      text: () => text,
      messages: () =>
        text
          .split('\n\n')
          .filter((b) => b.includes('data: '))
          .map((b) => ({ name: /event: (\S+)/.exec(b)?.[1] ?? 'message', data: JSON.parse(/data: (.*)/.exec(b)![1]) })),
      close: () => ac.abort(),
    },
  };
}

async function until(check: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('live stream for the staff console', () => {
  let t: TestLocker | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  it('admits nobody without a session', async () => {
    t = await startLocker();
    const res = await fetch(`${t.url}/api/v1/events/stream`);
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('unauthorized');
    const forged = await fetch(`${t.url}/api/v1/events/stream`, { headers: { authorization: 'Bearer AAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(forged.status).toBe(401);
  });

  it('starts with every compartment, then follows a whole pickup without a phone number or code in it', async () => {
    t = await startLocker();
    const token = await t.login('staff');
    const { status, reader } = await openStream(t, token);
    expect(status).toBe(200);
    await until(() => reader.messages().length >= 1, 'the snapshot');
    const [snapshot] = reader.messages();
    expect(snapshot.name).toBe('snapshot');
    expect(snapshot.data.compartments).toHaveLength(24);
    expect(snapshot.data.compartments[0]).toEqual({ number: 1, size: 'S', status: 'free', door: 'closed' });
    expect(snapshot.data.alarms).toEqual([]);

    const phone = '0912345678';
    const n = await loadDossier(t, token, 'S-1', phone);
    const code = t.codeFor(phone);
    const pick = await t.api('POST', '/api/v1/pickups', { phone, code });
    expect(pick.status).toBe(200);
    t.sim.setDoor(n, true);
    t.sim.setDoor(n, false);
    await until(() => reader.messages().some((m) => m.data.compartments?.[n - 1]?.status === 'free' && m.data.events?.some((e: any) => e.type === 'door.closed')), 'the door to close after the pickup');

    const changes = reader.messages().filter((m) => m.name === 'change');
    const types = changes.flatMap((m) => m.data.events.map((e: any) => e.type));
    expect(types).toEqual(expect.arrayContaining(['dossier.loading', 'sms.sent', 'pickup.succeeded', 'door.opened', 'door.closed']));
    for (const m of changes) {
      for (const e of m.data.events) expect(Object.keys(e).sort()).toEqual(expect.arrayContaining(['actor', 'at', 'seq', 'type']));
      for (const e of m.data.events) expect(e).not.toHaveProperty('data');
    }
    const raw = reader.text();
    expect(raw).not.toContain(phone);
    expect(raw).not.toContain(phone.slice(1));
    expect(raw).not.toContain('84912345678');
    expect(raw).not.toContain('**');
    expect(raw).not.toContain(code);
    reader.close();
  });

  it('lists recent alarms in its first message', async () => {
    t = await startLocker();
    t.sim.setDoor(4, true); // opened while locked: forced
    const token = await t.login('staff');
    const { reader } = await openStream(t, token);
    await until(() => reader.messages().length >= 1, 'the snapshot');
    const alarms = reader.messages()[0].data.alarms;
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ type: 'door.forced_open', compartment: 4, actor: 'system' });
    expect(alarms[0]).not.toHaveProperty('data');
    reader.close();
  });

  it('does not keep the locker from stopping while a console is connected', async () => {
    t = await startLocker();
    const token = await t.login('staff');
    const { reader } = await openStream(t, token);
    await until(() => reader.messages().length >= 1, 'the snapshot');
    const started = Date.now();
    await t.stop();
    t = null;
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
