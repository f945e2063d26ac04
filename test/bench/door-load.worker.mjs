// The door-latency bench's background load, on its own thread as it would be on other machines:
// staff consoles polling the grid and other kiosks asking for resends, each back to back.
// Plain JavaScript: a worker thread does not inherit tsx's loader on Node 20.
import { parentPort, workerData } from 'node:worker_threads';

const { url, token, consoles, kiosks } = workerData;
let running = true;
let requests = 0;
parentPort.on('message', (m) => {
  if (m === 'stop') running = false;
});

async function call(method, path, body, auth) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth) headers.authorization = `Bearer ${auth}`;
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status}`);
  requests++;
}

await Promise.all([
  ...Array.from({ length: consoles }, async () => {
    while (running) await call('GET', '/api/v1/compartments', undefined, token);
  }),
  ...Array.from({ length: kiosks }, async (_, k) => {
    while (running) await call('POST', '/api/v1/pickups/resend', { phone: `09000000${10 + k}` });
  }),
]);
parentPort.postMessage(requests);
