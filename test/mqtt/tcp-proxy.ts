// A TCP relay between the locker and the broker that a test can cut (an uplink outage) or make
// one-way (the broker receives publishes but its PUBACKs never reach the locker).
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../helpers/broker.ts';

export class TcpProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<[Socket, Socket]>();
  /** While true, bytes from the broker to the locker are swallowed. */
  withholdReplies = false;

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async create(targetPort: number, listen = true): Promise<TcpProxy> {
    const p = new TcpProxy(await freePort(), targetPort);
    if (listen) await p.open();
    return p;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    if (this.server) return;
    const s = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d) => {
        if (!this.withholdReplies) client.write(d);
      });
      // Either side going away drops the other at once, like a dead process's socket.
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = s;
  }

  /** Stops accepting and cuts every open connection. */
  async cut(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  connections(): number {
    return this.pairs.size;
  }
}
