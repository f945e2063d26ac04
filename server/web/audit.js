// The auditor view: the trail read a page at a time from the locker, filtered there (a login
// downloads one page, not the whole trail), each event as a sentence with its labelled fields,
// times in the office's zone (LOCKER_TIMEZONE); the chain verified by the locker; CSV exported by
// the locker, streamed, with the same filters.
import { Session } from './lib/api.js';
import { h } from './lib/dom.js';
import { createI18n } from './lib/i18n.js';
import { wireLogin } from './lib/login.js';
import { eventFields, eventSentence, typeLabel, EVENT_TYPES } from './lib/event-text.js';
import { localDateTime } from './lib/local-time.js';
import { checkLinks } from './lib/trail.js';
import { AUDIT_TEXT } from './audit-text.js';

const PAGE = 100;
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

const $ = (id) => document.getElementById(id);
const i18n = createI18n(AUDIT_TEXT, localStorage.getItem('locker.audit.lang') ?? 'vi');
const t = i18n.t;
const session = new Session('locker.audit.session', ['auditor', 'admin']);

const state = {
  timeZone: 'Asia/Ho_Chi_Minh',
  types: [...EVENT_TYPES],
  /** The filter of what is shown, as query parameters. */
  query: null,
  events: [],
  next: null,
  total: 0,
  loading: false,
  verify: null,
  note: null,
};

// ---------- language ----------
function renderLang() {
  $('lang').textContent = t('langButton');
  $('lang').lang = i18n.other();
  localStorage.setItem('locker.audit.lang', i18n.lang);
  renderHeader();
  fillTypes();
  if (!$('trail').hidden) {
    $('who').textContent = whoText();
    renderTable();
    renderVerify();
    renderNote();
  }
}
i18n.onChange(renderLang);
$('lang').addEventListener('click', () => i18n.setLang(i18n.other()));

// ---------- login ----------
const whoText = () => {
  const s = session.get();
  return s ? t('signedInAs', { user: s.username, role: s.role }) : '';
};
session.onExpired = () => showLogin();
wireLogin({ form: $('login-form'), user: $('username'), password: $('password'), note: $('login-note'), session, i18n, onLoggedIn: () => showTrail() });
$('logout').addEventListener('click', () => {
  session.logout();
  state.events = [];
  showLogin();
});

function showLogin() {
  $('trail').hidden = true;
  $('logout').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('username').focus();
}

async function showTrail() {
  $('login').hidden = true;
  $('trail').hidden = false;
  $('logout').hidden = false;
  $('who').hidden = false;
  $('who').textContent = whoText();
  const meta = await session.call('GET', '/api/v1/audit/meta');
  if (meta.status === 200) {
    state.timeZone = meta.body.timeZone;
    state.types = meta.body.types;
  }
  renderHeader();
  fillTypes();
  const q = readFilter();
  if (q) await load(q);
}

function renderHeader() {
  $('col-at').textContent = t('colAt', { zone: state.timeZone });
}

function fillTypes() {
  const select = $('f-type');
  const current = select.value;
  const options = [...state.types]
    .map((ty) => ({ ty, label: typeLabel(ty, i18n.lang) }))
    .sort((a, b) => a.label.localeCompare(b.label, i18n.lang))
    .map(({ ty, label }) => h('option', { value: ty, text: label }));
  select.replaceChildren(h('option', { value: '', text: t('allTypes'), dataset: { t: 'allTypes' } }), ...options);
  select.value = current;
}

// ---------- filter ----------
/** The form as query parameters, or null (with the reason shown) when a field is wrong. */
function readFilter() {
  const q = new URLSearchParams();
  const from = $('f-from').value;
  const to = $('f-to').value;
  if (from && to && from > to) return refuse('badDates');
  // Days are the office's days: the locker reads them in its own zone.
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  if ($('f-type').value) q.set('type', $('f-type').value);
  const staffName = $('f-staff').value.trim();
  if (staffName) {
    if (!NAME.test(staffName)) return refuse('badStaff');
    q.set('actor', `staff:${staffName}`);
  } else if ($('f-actor').value) q.set('actor', $('f-actor').value);
  const n = $('f-compartment').value.trim();
  if (n || $('f-compartment').validity.badInput) {
    if (!/^[1-9][0-9]{0,5}$/.test(n)) return refuse('badCompartment');
    q.set('compartment', n);
  }
  const d = $('f-dossier').value.trim();
  if (d) {
    if (!NAME.test(d)) return refuse('badDossier');
    q.set('dossier', d);
  }
  say(null);
  return q;
}

function refuse(key) {
  say({ key });
  return null;
}

function say(note) {
  state.note = note;
  renderNote();
}

function renderNote() {
  const el = $('filter-note');
  el.hidden = !state.note;
  if (state.note) el.textContent = t(state.note.key, state.note.vars);
}

/** Error codes in the page's language; the API's English message is for integrators. */
function failure(r) {
  if (r.status === 0) return { key: 'network' };
  if (r.status === 400) return { key: 'badFilter' };
  return { key: 'failed', vars: { message: r.body?.error ?? r.status } };
}

const isFiltered = (q) => [...q.keys()].length > 0;

/** The first page of what the filter matches, newest first unless asked otherwise. */
async function load(q) {
  const order = $('f-order').value;
  state.query = q;
  state.order = order;
  state.events = [];
  state.next = null;
  state.total = 0;
  state.verify = null;
  $('verify-result').hidden = true;
  await fetchPage();
}

async function fetchPage() {
  if (state.loading) return;
  state.loading = true;
  document.body.dataset.loading = 'true';
  $('count').textContent = t('loading');
  try {
    const q = new URLSearchParams(state.query);
    q.set('order', state.order);
    q.set('limit', String(PAGE));
    q.set('count', 'true');
    if (state.next !== null) q.set(state.order === 'desc' ? 'before' : 'after', String(state.next));
    const r = await session.call('GET', `/api/v1/audit?${q}`);
    if (r.status !== 200) {
      if (r.status !== 401) say(failure(r));
      return;
    }
    state.events.push(...r.body.events);
    state.next = r.body.next;
    state.total = r.body.total;
  } finally {
    state.loading = false;
    delete document.body.dataset.loading;
    renderTable();
  }
}

$('filter-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = readFilter();
  if (q) await load(q);
});
$('clear').addEventListener('click', async () => {
  for (const id of ['f-from', 'f-to', 'f-type', 'f-actor', 'f-staff', 'f-compartment', 'f-dossier']) $(id).value = '';
  await load(readFilter());
});
$('more').addEventListener('click', () => fetchPage());

// ---------- table ----------
function timeText(iso) {
  const local = localDateTime(iso, state.timeZone);
  if (!local || i18n.lang !== 'vi') return local;
  // 2026-12-03 08:15:00 -> 03/12/2026 08:15:00, as dates are written in Vietnam.
  return `${local.slice(8, 10)}/${local.slice(5, 7)}/${local.slice(0, 4)} ${local.slice(11)}`;
}

function fieldsOf(e) {
  const fields = eventFields(e, i18n.lang);
  if (fields.length === 0) return '';
  return h('dl', { class: 'fields' }, ...fields.flatMap((f) => [h('dt', { text: f.label }), h('dd', { text: f.value })]));
}

function renderTable() {
  const rows = state.events;
  $('events-body').replaceChildren(
    ...rows.map((e) =>
      h(
        'tr',
        { dataset: { seq: String(e.seq), type: e.type } },
        h('td', { text: String(e.seq) }),
        h('td', { class: 'when', text: timeText(e.at), title: e.at }),
        h('td', {}, h('span', { class: 'sentence', text: eventSentence(e, i18n.lang) }), h('span', { class: 'kind', text: typeLabel(e.type, i18n.lang), title: e.type })),
        h('td', {}, fieldsOf(e)),
        h('td', { class: 'mono nowrap', title: e.hash, text: `${e.hash.slice(0, 12)}…` }),
      ),
    ),
  );
  $('events').hidden = rows.length === 0;
  $('events-empty').hidden = rows.length > 0 || state.loading;
  $('more').hidden = state.next === null;
  $('count').textContent = t('count', { shown: rows.length.toLocaleString(i18n.lang), matched: (state.total ?? 0).toLocaleString(i18n.lang) });
}

// ---------- verify ----------
$('verify').addEventListener('click', async () => {
  const out = $('verify-result');
  out.hidden = false;
  out.className = '';
  delete out.dataset.ok;
  out.textContent = t('verifying');
  const r = await session.call('GET', '/api/v1/audit/verify');
  if (r.status !== 200) {
    state.verify = null;
    const f = failure(r);
    out.textContent = t(f.key, f.vars);
    return;
  }
  // The events shown link up among themselves only when nothing is filtered out between them.
  const shown = [...state.events].sort((a, b) => a.seq - b.seq);
  state.verify = { server: r.body, links: state.query && !isFiltered(state.query) ? checkLinks(shown) : null };
  renderVerify();
});

function renderVerify() {
  const out = $('verify-result');
  if (!state.verify) return;
  const { server, links } = state.verify;
  const ok = server.ok && (links === null || links.ok);
  out.className = ok ? 'verify-ok' : 'verify-bad';
  out.dataset.ok = String(ok);
  out.replaceChildren(
    server.ok ? t('verifyOk', { count: server.count, head: `${server.head.slice(0, 16)}…` }) : t('verifyBad', { at: server.brokenAt ?? '?', reason: server.reason ?? '' }),
    ' ',
    links === null ? t('linksNote') : links.ok ? t('linksOk', { n: links.count }) : t('linksBad', { at: links.at }),
  );
}

// ---------- export ----------
$('export').addEventListener('click', async () => {
  const q = readFilter();
  if (!q) return;
  q.set('lang', i18n.lang);
  const s = session.get();
  if (!s) return showLogin();
  const button = $('export');
  button.disabled = true;
  $('count').textContent = t('exporting');
  try {
    // The locker streams the file; the browser gathers it and saves it under the locker's name.
    let res;
    try {
      res = await fetch(`/api/v1/audit.csv?${q}`, { headers: { authorization: `Bearer ${s.token}` }, cache: 'no-store' });
    } catch {
      return say({ key: 'network' });
    }
    if (res.status === 401) {
      session.logout();
      return showLogin();
    }
    if (res.status !== 200) {
      let body = null;
      try {
        body = await res.json();
      } catch {
        // not JSON
      }
      return say(failure({ status: res.status, body }));
    }
    const blob = await res.blob();
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'audit.csv';
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } finally {
    button.disabled = false;
    renderTable();
  }
});

// ---------- start ----------
i18n.setLang(i18n.lang);
if (session.get()) showTrail();
else showLogin();
document.body.dataset.ready = 'true';
