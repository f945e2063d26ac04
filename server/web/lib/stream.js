// Reads the locker's server-sent events with fetch(), so the bearer token goes in a header
// (EventSource cannot send one, and a token in the URL would end up in logs).
// Reconnects on its own (the first message is then a fresh snapshot); a 401 or 403 stops it and
// tells the page. A stream replaced by a newer one of the same session (the server keeps a few per
// session) waits the longest delay before it tries again, so surplus tabs do not take turns every second.

const MAX_DELAY = 15000;

export function openStream(url, getToken, { onMessage, onState, onUnauthorized }) {
  let stopped = false;
  let controller = null;
  let delay = 1000;

  async function run() {
    while (!stopped) {
      const token = getToken();
      if (!token) {
        onUnauthorized();
        return;
      }
      controller = new AbortController();
      try {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal, cache: 'no-store' });
        if (res.status === 401 || res.status === 403) {
          onState('offline');
          onUnauthorized();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream ${res.status}`);
        onState('live');
        delay = 1000;
        let ended = null;
        await readEvents(res.body, (name, msg) => {
          if (name === 'end') ended = msg.reason;
          else onMessage(name, msg);
        });
        if (ended === 'replaced') delay = MAX_DELAY;
      } catch (err) {
        if (stopped) return;
      }
      if (stopped) return;
      onState('offline');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, MAX_DELAY);
    }
  }

  run();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}

async function readEvents(body, onMessage) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length === 0) continue;
      try {
        onMessage(name, JSON.parse(data.join('\n')));
      } catch {
        // a malformed message is skipped; the next one carries the full state again
      }
    }
  }
}
