// 2. API throughput: GET /api/v1/compartments (auth, SQLite read, schema serialisation) against a bare
// Fastify route that returns the same JSON, with the same load tool and settings, in the same run:
// once with autocannon on the server's thread (as before), once on a worker thread of its own, as a
// console on another machine would be. The target holds for both.
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { startLocker } from '../helpers/locker.ts';
import { round, type BenchResult } from './stats.ts';

async function rps(url: string, token: string, seconds: number, ownThread = false): Promise<{ rps: number; p99: number; errors: number }> {
  const r = await autocannon({ url, connections: 10, duration: seconds, headers: { authorization: `Bearer ${token}` }, ...(ownThread ? { workers: 1 } : {}) });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

export async function apiThroughput(seconds = 5): Promise<BenchResult> {
  const t = await startLocker({ env: { LOCKER_SESSION_TTL_MIN: '10080' } });
  const token = await t.login('staff');
  const body = (await t.api('GET', '/api/v1/compartments', undefined, token)).body;
  const bare = Fastify();
  bare.get('/api/v1/compartments', async () => body);
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

  await rps(`${t.url}/api/v1/compartments`, token, 1); // warm-up
  const ours = await rps(`${t.url}/api/v1/compartments`, token, seconds);
  const base = await rps(`${bareUrl}/api/v1/compartments`, token, seconds);
  const oursApart = await rps(`${t.url}/api/v1/compartments`, token, seconds, true);
  const baseApart = await rps(`${bareUrl}/api/v1/compartments`, token, seconds, true);
  await bare.close();
  await t.stop();
  const ratio = ours.rps / base.rps;
  const ratioApart = oursApart.rps / baseApart.rps;
  return {
    name: 'API throughput',
    figures: {
      'locker req/s': round(ours.rps, 0),
      'bare Fastify req/s': round(base.rps, 0),
      ratio: round(ratio, 2),
      'locker p99 ms': ours.p99,
      'autocannon on its own thread: locker req/s': round(oursApart.rps, 0),
      'autocannon on its own thread: bare Fastify req/s': round(baseApart.rps, 0),
      'autocannon on its own thread: ratio': round(ratioApart, 2),
      errors: ours.errors + base.errors + oursApart.errors + baseApart.errors,
    },
    target: 'ratio >= 0.5 (both ways)',
    met: ratio >= 0.5 && ratioApart >= 0.5 && ours.errors + oursApart.errors === 0,
    limit:
      'per request: session lookup (SHA-256 + SQLite read), the change check of the cached grid, schema serialisation, security headers',
  };
}
