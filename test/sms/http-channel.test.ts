import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpSmsChannel, SmsSendError, fillTemplate } from '../../server/sms/http-channel.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

async function gateway(reply: (seen: Seen) => { status: number; delayMs?: number }): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      const { status, delayMs } = reply(s);
      setTimeout(() => res.writeHead(status).end('{}'), delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

const message = { to: '0912345678', text: 'Mã nhận: 123456 "quoted" & more' };

describe('HTTP SMS gateway', () => {
  it('posts the JSON body template with the key header', async () => {
    const gw = await gateway(() => ({ status: 200 }));
    const ch = new HttpSmsChannel({
      url: `${gw.url}/send`,
      method: 'POST',
      headers: { 'x-api-key': 'k-1' },
      bodyTemplate: '{"phone":{{to84}},"message":{{text}},"brand":"UBND"}',
      timeoutMs: 2000,
    });
    await ch.send(message);
    expect(gw.seen).toHaveLength(1);
    expect(gw.seen[0].headers['x-api-key']).toBe('k-1');
    expect(gw.seen[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(gw.seen[0].body)).toEqual({ phone: '+84912345678', message: message.text, brand: 'UBND' });
  });

  it('fills a GET query string URL-encoded', async () => {
    const gw = await gateway(() => ({ status: 200 }));
    const ch = new HttpSmsChannel({ url: `${gw.url}/send?to={{to:url}}&msg={{text:url}}`, method: 'GET', headers: {}, bodyTemplate: '', timeoutMs: 2000 });
    await ch.send(message);
    const u = new URL(gw.seen[0].url, gw.url);
    expect(u.searchParams.get('to')).toBe('0912345678');
    expect(u.searchParams.get('msg')).toBe(message.text);
  });

  it('treats a non-2xx answer and a timeout as failures, without echoing the number or the text', async () => {
    const gw = await gateway((s) => (s.url.startsWith('/slow') ? { status: 200, delayMs: 500 } : { status: 502 }));
    const bad = new HttpSmsChannel({ url: `${gw.url}/x?to={{to:url}}`, method: 'POST', headers: {}, bodyTemplate: '{"t":{{text}}}', timeoutMs: 2000 });
    await expect(bad.send(message)).rejects.toThrow(new SmsSendError('gateway answered HTTP 502'));
    const slow = new HttpSmsChannel({ url: `${gw.url}/slow?to={{to:url}}`, method: 'POST', headers: {}, bodyTemplate: '{"t":{{text}}}', timeoutMs: 100 });
    const err = await slow.send(message).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SmsSendError);
    expect((err as Error).message).toMatch(/timed out/);
    expect((err as Error).message).not.toContain('0912345678');
  });

  it('refuses a gateway that is not listening', async () => {
    const ch = new HttpSmsChannel({ url: 'http://127.0.0.1:9/none', method: 'POST', headers: {}, bodyTemplate: '{}', timeoutMs: 1000 });
    await expect(ch.send(message)).rejects.toBeInstanceOf(SmsSendError);
  });

  it('substitutes placeholders in each encoding', () => {
    expect(fillTemplate('{{to}}|{{to:raw}}|{{to84:raw}}|{{text:url}}', { to: '0912345678', text: 'a b' })).toBe('"0912345678"|0912345678|+84912345678|a%20b');
  });
});
