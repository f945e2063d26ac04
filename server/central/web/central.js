// The auditors' page: log in, see every locker, search pickups, export CSV, verify a trail, and
// (admins) send a command. The token lives in sessionStorage only: closing the tab logs out.
const $ = (id) => document.getElementById(id);
const KEY = 'central-session';
let session = JSON.parse(sessionStorage.getItem(KEY) || 'null');
let nextCursor = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

async function api(method, path, body) {
  const headers = {};
  if (session) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && session) {
    logout();
    throw new Error('Your session ended: log in again.');
  }
  const isJson = (res.headers.get('content-type') || '').includes('application/json');
  const data = isJson ? await res.json() : await res.blob();
  if (!res.ok) throw new Error(isJson ? data.message : `HTTP ${res.status}`);
  return { status: res.status, data };
}

function show() {
  $('login').hidden = !!session;
  $('app').hidden = !session;
  $('who').hidden = !session;
  if (!session) return;
  $('who-name').textContent = `${session.username} (${session.role})`;
  $('command-form').hidden = session.role !== 'admin';
  loadLockers();
  loadAlarms();
}

function logout() {
  if (session) fetch('/api/v1/session', { method: 'DELETE', headers: { authorization: `Bearer ${session.token}` } }).catch(() => {});
  session = null;
  sessionStorage.removeItem(KEY);
  show();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('login-error').textContent = '';
  try {
    const username = $('username').value;
    const { data } = await api('POST', '/api/v1/session', { username, password: $('password').value });
    session = { token: data.token, role: data.role, username };
    sessionStorage.setItem(KEY, JSON.stringify(session));
    $('password').value = '';
    show();
  } catch (err) {
    $('login-error').textContent = err.message;
  }
});
$('logout').addEventListener('click', logout);
$('refresh').addEventListener('click', () => {
  loadLockers();
  loadAlarms();
});

async function loadLockers() {
  try {
    const { data } = await api('GET', '/api/v1/lockers');
    const body = $('lockers-body');
    body.replaceChildren();
    const select = $('cmd-locker');
    select.replaceChildren();
    for (const l of data.lockers) {
      const tr = el('tr');
      tr.append(el('th', l.id));
      tr.firstChild.scope = 'row';
      tr.append(el('td', l.online ? 'online' : l.availability === null ? 'never heard' : 'offline', l.online ? 'ok' : 'bad'));
      tr.append(el('td', when(l.since)));
      for (const n of [l.compartments.free, l.compartments.occupied, l.compartments.fault, l.overdue, l.alarms, l.events]) tr.append(el('td', n, 'num'));
      tr.append(el('td', l.verified ? 'verified' : 'NOT verified', l.verified ? 'ok' : 'bad'));
      const actions = el('td');
      const verify = el('button', 'Verify', 'secondary');
      verify.type = 'button';
      verify.setAttribute('aria-label', `Verify the trail of ${l.id}`);
      verify.addEventListener('click', () => verifyLocker(l.id));
      actions.append(verify);
      tr.append(actions);
      body.append(tr);
      const opt = el('option', l.id);
      opt.value = l.id;
      select.append(opt);
    }
    $('lockers-status').textContent = `${data.lockers.length} locker(s), updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    $('lockers-status').textContent = err.message;
  }
}

async function verifyLocker(id) {
  const out = $('verify-result');
  out.textContent = `Verifying ${id}…`;
  try {
    const { data } = await api('GET', `/api/v1/lockers/${encodeURIComponent(id)}/verify`);
    const parts = [`${id}: ${data.ok ? 'trail intact' : 'TRAIL NOT INTACT'} — ${data.count} events stored, latest seq ${data.latestSeq}.`];
    if (data.gaps.length) parts.push(`Missing seq: ${data.gaps.slice(0, 50).join(', ')}${data.gaps.length > 50 ? ' …' : ''}.`);
    if (data.broken.length) parts.push(`Broken at seq: ${data.broken.slice(0, 50).join(', ')}.`);
    out.replaceChildren(el('p', parts.join(' '), data.ok ? 'ok' : 'bad'));
  } catch (err) {
    out.textContent = err.message;
  }
}

function filters() {
  const p = new URLSearchParams();
  const dossier = $('f-dossier').value.trim();
  const locker = $('f-locker').value.trim();
  if (dossier) p.set('dossier', dossier);
  if (locker) p.set('locker', locker);
  // datetime-local is the auditor's local time: sent as an ISO time with its zone.
  if ($('f-from').value) p.set('from', new Date($('f-from').value).toISOString());
  if ($('f-to').value) p.set('to', new Date(`${$('f-to').value}:59.999`).toISOString());
  return p;
}

async function searchPickups(more) {
  const p = filters();
  p.set('limit', '100');
  if (more && nextCursor) p.set('after', nextCursor);
  try {
    const { data } = await api('GET', `/api/v1/pickups?${p}`);
    const body = $('pickups-body');
    if (!more) body.replaceChildren();
    for (const k of data.pickups) {
      const tr = el('tr');
      tr.append(el('td', when(k.at)), el('td', k.locker), el('td', k.compartment, 'num'), el('td', k.dossier), el('td', k.seq, 'num'));
      tr.append(el('td', k.verified ? 'yes' : 'NO', k.verified ? 'ok' : 'bad'));
      body.append(tr);
    }
    nextCursor = data.next;
    $('more').hidden = data.next === null;
    $('pickups-status').textContent = `${body.children.length} pickup(s) shown${data.next ? ', more available' : ''}.`;
  } catch (err) {
    $('pickups-status').textContent = err.message;
  }
}

$('pickup-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  searchPickups(false);
});
$('more').addEventListener('click', () => searchPickups(true));
$('csv').addEventListener('click', async () => {
  try {
    const { data } = await api('GET', `/api/v1/pickups.csv?${filters()}`);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(data);
    a.download = `pickups-${new Date().toISOString().slice(0, 10)}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } catch (err) {
    $('pickups-status').textContent = err.message;
  }
});

async function loadAlarms() {
  try {
    const { data } = await api('GET', '/api/v1/alarms?open=true');
    const body = $('alarms-body');
    body.replaceChildren();
    if (data.alarms.length === 0) {
      const tr = el('tr');
      const td = el('td', 'No open alarm.');
      td.colSpan = 7;
      tr.append(td);
      body.append(tr);
    }
    for (const a of data.alarms) {
      const tr = el('tr');
      tr.append(el('td', when(a.openedAt)), el('td', a.locker), el('td', a.kind, 'bad'), el('td', a.seq ?? '–', 'num'));
      tr.append(el('td', JSON.stringify(a.detail)), el('td', a.occurrences, 'num'));
      const td = el('td');
      if (session && session.role === 'admin' && a.kind !== 'gap') {
        const b = el('button', 'Close…', 'secondary');
        b.type = 'button';
        b.addEventListener('click', async () => {
          const note = prompt(`Close alarm ${a.id} (${a.kind} at ${a.locker}): what was found?`);
          if (!note) return;
          try {
            await api('POST', `/api/v1/alarms/${a.id}/close`, { note });
            loadAlarms();
            loadLockers();
          } catch (err) {
            alert(err.message);
          }
        });
        td.append(b);
      }
      tr.append(td);
      body.append(tr);
    }
  } catch {
    // shown by the lockers' status line
  }
}

$('command-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const command = $('cmd-name').value;
  const args = {};
  if (command.startsWith('compartment/')) args.number = Number($('cmd-number').value);
  if (command === 'dossier/cancel') args.code = $('cmd-code').value.trim();
  if (command === 'events/republish') {
    args.from = Number($('cmd-from').value);
    args.to = Number($('cmd-to').value);
  }
  const reason = $('cmd-reason').value.trim();
  if (reason && (command === 'compartment/disable' || command === 'dossier/cancel')) args.reason = reason;
  $('cmd-result').textContent = 'Waiting for the locker…';
  try {
    const { data } = await api('POST', `/api/v1/lockers/${encodeURIComponent($('cmd-locker').value)}/commands`, { command, args });
    $('cmd-result').textContent = JSON.stringify(data, null, 2);
    loadLockers();
  } catch (err) {
    $('cmd-result').textContent = err.message;
  }
});

show();
