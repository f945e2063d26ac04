// The sockets behind a Fastify app, for the locker and the central service alike: HTTPS when a
// certificate is configured (else plain HTTP), caps on concurrent connections checked the moment
// a connection is accepted, and timeouts that close slow and idle ones. With HTTPS the locker
// also listens with plain HTTP on 127.0.0.1 for the Pi's own kiosk screen: both servers hand
// their requests to the same Fastify handler.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ConnectionLimits, ListenSettings } from '../config/listen.ts';

/** The addresses the Pi's own kiosk connects from. They count against no cap: a LAN flood must not lock the kiosk out. */
const KIOSK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export interface GuardCounts {
  /** Connections let through since start. */
  accepted: number;
  /** Closed at accept: their address already held its share. */
  refusedPerAddress: number;
  /** Closed at accept: all remote addresses together held the total. */
  refusedTotal: number;
  /** Open now, from addresses other than the kiosk's. */
  remoteOpen: number;
  /** Open now, from the kiosk's loopback addresses. */
  kioskOpen: number;
}

/** Counts connections per remote address and closes, at accept, those beyond the caps. */
export class ConnectionGuard {
  private readonly byAddress = new Map<string, number>();
  private readonly c: GuardCounts = { accepted: 0, refusedPerAddress: 0, refusedTotal: 0, remoteOpen: 0, kioskOpen: 0 };

  constructor(private readonly limits: Pick<ConnectionLimits, 'perAddress' | 'total'>) {}

  /** Runs before the HTTP (or TLS) layer sees the socket; a refused socket is destroyed at once. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress;
    if (address === undefined) {
      // Already gone (reset by the peer before we looked).
      socket.destroy();
      return false;
    }
    if (KIOSK_ADDRESSES.has(address)) {
      this.c.accepted++;
      this.c.kioskOpen++;
      socket.once('close', () => this.c.kioskOpen--);
      return true;
    }
    const held = this.byAddress.get(address) ?? 0;
    if (held >= this.limits.perAddress) {
      this.c.refusedPerAddress++;
      socket.destroy();
      return false;
    }
    if (this.c.remoteOpen >= this.limits.total) {
      this.c.refusedTotal++;
      socket.destroy();
      return false;
    }
    this.byAddress.set(address, held + 1);
    this.c.remoteOpen++;
    this.c.accepted++;
    socket.once('close', () => {
      this.c.remoteOpen--;
      const n = (this.byAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.byAddress.delete(address);
      else this.byAddress.set(address, n);
    });
    return true;
  }

  counts(): GuardCounts {
    return { ...this.c };
  }
}

export interface ListenUrls {
  /** The main listener (https:// with a certificate). */
  url: string;
  /** The plain-HTTP listener on 127.0.0.1 for the kiosk screen, when there is one. */
  loopbackUrl: string | null;
  /** Where a health probe from this host reaches the app: the loopback listener, or the main one. */
  probeUrl: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export class HttpListeners {
  readonly guard: ConnectionGuard;
  private loopback: http.Server | null = null;

  /** loopbackPort: the kiosk's plain-HTTP port with HTTPS (0 = any free one); null = no such listener. */
  constructor(
    private readonly settings: ListenSettings,
    private readonly loopbackPort: number | null,
  ) {
    this.guard = new ConnectionGuard(settings.limits);
  }

  get tls(): boolean {
    return this.settings.tls !== null;
  }

  /** Spread into Fastify()'s options: the servers are made here, around Fastify's handler. */
  fastifyOptions(): { serverFactory: (handler: Handler) => http.Server; https?: true } {
    const serverFactory = (handler: Handler): http.Server => {
      const tls = this.settings.tls;
      const main = tls
        ? https.createServer(
            {
              ...this.serverOptions(),
              cert: readFileSync(tls.certFile),
              key: readFileSync(tls.keyFile),
              // A connection that never finishes its handshake is held no longer than one that never sends its headers.
              handshakeTimeout: this.settings.limits.headersTimeoutMs,
            },
            handler,
          )
        : http.createServer(this.serverOptions(), handler);
      this.tune(main);
      if (tls && this.loopbackPort !== null) {
        const loop = http.createServer(this.serverOptions(), handler);
        this.tune(loop);
        // Fastify answers malformed requests through the main server's clientError handler.
        loop.on('clientError', (err, socket) => main.emit('clientError', err, socket));
        this.loopback = loop;
      }
      return main;
    };
    // `https` only tells Fastify to say https:// in the address it returns and logs.
    return this.settings.tls ? { serverFactory, https: true } : { serverFactory };
  }

  /** Listens on host:port through Fastify, then on the loopback listener if there is one. */
  async listen(app: FastifyInstance, host: string, port: number): Promise<ListenUrls> {
    const url = await app.listen({ host, port });
    let loopbackUrl: string | null = null;
    if (this.loopback) {
      const loop = this.loopback;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        loop.once('error', onError);
        loop.listen(this.loopbackPort!, '127.0.0.1', () => {
          loop.off('error', onError);
          resolve();
        });
      });
      loopbackUrl = `http://127.0.0.1:${(loop.address() as AddressInfo).port}`;
    }
    return { url, loopbackUrl, probeUrl: loopbackUrl ?? probeOf(url, this.tls) };
  }

  /** Stops the loopback listener (Fastify's close stops the main one): idle connections go at once, busy ones when answered. */
  async closeLoopback(): Promise<void> {
    const loop = this.loopback;
    if (!loop?.listening) return;
    const sweep = setInterval(() => loop.closeIdleConnections(), 50);
    sweep.unref();
    await new Promise<void>((resolve) => loop.close(() => resolve())).finally(() => clearInterval(sweep));
  }

  private serverOptions(): http.ServerOptions {
    // Node checks the headers and request timeouts only this often (30 s by default).
    return { connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(this.settings.limits.headersTimeoutMs / 2))) };
  }

  private tune(server: http.Server): void {
    const l = this.settings.limits;
    server.headersTimeout = l.headersTimeoutMs;
    server.requestTimeout = l.requestTimeoutMs;
    server.keepAliveTimeout = l.keepAliveTimeoutMs;
    // No 'timeout' listener anywhere: Node then destroys a socket silent for this long.
    server.setTimeout(l.idleTimeoutMs);
    // Before the TLS or HTTP layer sees the socket.
    server.prependListener('connection', (socket: Socket) => this.guard.admit(socket));
  }
}

/** The main listener as seen from this host: a wildcard address becomes loopback. */
function probeOf(url: string, tls: boolean): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  u.protocol = tls ? 'https:' : 'http:';
  return u.origin;
}
