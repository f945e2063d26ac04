// The auditor view: the whole trail, filtered in the browser; the chain verified by the locker
// (and the links of what was downloaded re-checked here); CSV export of what the filter shows.
import { Session } from './lib/api.js';
import { h } from './lib/dom.js';
import { createI18n, formatTime } from './lib/i18n.js';
import { wireLogin } from './lib/login.js';
import { checkLinks, matches, toCsv } from './lib/trail.js';
import { AUDIT_TEXT } from './audit-text.js';

const PAGE = 1000; // the API's largest page
const SHOW_STEP = 200;
const KNOWN_TYPES = [
  'dossier.loading', 'dossier.ready', 'dossier.code_reissued', 'dossier.expired', 'dossier.withdrawn', 'dossier.cancelled',
  'sms.sent', 'sms.failed', 'pickup.failed', 'pickup.succeeded', 'pickup.throttled',
  'door.unlocked', 'door.opened', 'door.closed', 'door.forced_open', 'door.ajar', 'door.jammed', 'door.sensor_fault', 'door.unlock_failed',
  'compartment.disabled', 'compartment.enabled', 'login.succeeded', 'login.failed', 'user.created',
];

const $ = (id) => document.getElementById(id);
const i18n = createI18n(AUDIT_TEXT, localStorage.getItem('locker.audit.lang') ?? 'vi');
const t = i18n.t;
const session = new Session('locker.audit.session', ['auditor', 'admin']);

const state = { events: [], lastSeq: 0, matched: [], shown: SHOW_STEP, loading: false, verify: null, loadError: null };

// ---------- language ----------
function renderLang() {
  $('lang').textContent = t('langButton');
  $('lang').lang = i18n.other();
  localStorage.setItem('locker.audit.lang', i18n.lang);
  if (!$('trail').hidden) {
    $('who').textContent = whoText();
    renderTable();
    renderVerify();
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
  state.lastSeq = 0;
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
  await loadNew();
  applyFilter();
}

// ---------- loading ----------
/** Fetches every event after the last one held (the trail only grows). */
async function loadNew() {
  if (state.loading) return;
  state.loading = true;
  document.body.dataset.loading = 'true';
  try {
    for (;;) {
      $('count').textContent = t('loading', { n: state.events.length });
      const r = await session.call('GET', `/api/v1/audit?after=${state.lastSeq}&limit=${PAGE}`);
      if (r.status !== 200) {
        state.loadError = r.status === 401 ? null : r.status === 0 ? t('network') : t('failed', { message: r.body?.message ?? r.status });
        return;
      }
      state.loadError = null;
      for (const e of r.body.events) state.events.push(e);
      if (r.body.events.length > 0) state.lastSeq = r.body.events[r.body.events.length - 1].seq;
      if (r.body.next === null) break;
    }
    fillTypes();
  } finally {
    state.loading = false;
    delete document.body.dataset.loading;
    renderCount();
  }
}

function renderCount() {
  if (state.loadError) {
    $('count').textContent = state.loadError;
    return;
  }
  $('count').textContent = t('count', { shown: Math.min(state.shown, state.matched.length), matched: state.matched.length, total: state.events.length });
}

function fillTypes() {
  const select = $('f-type');
  const current = select.value;
  const types = new Set(KNOWN_TYPES);
  for (const e of state.events) types.add(e.type);
  const options = [...types].sort().map((ty) => h('option', { value: ty, text: ty }));
  select.replaceChildren(h('option', { value: '', text: t('allTypes'), dataset: { t: 'allTypes' } }), ...options);
  select.value = current;
}

// ---------- filtering ----------
function readFilter() {
  const f = {};
  const from = $('f-from').value;
  const to = $('f-to').value;
  // Dates are the office's local days: from 00:00 of the first to 24:00 of the last.
  if (from) f.from = new Date(`${from}T00:00:00`);
  if (to) {
    const end = new Date(`${to}T00:00:00`);
    end.setDate(end.getDate() + 1);
    f.to = end;
  }
  if ($('f-type').value) f.type = $('f-type').value;
  const n = $('f-compartment').value.trim();
  if (n) f.compartment = Number(n);
  const d = $('f-dossier').value.trim();
  if (d) f.dossier = d;
  return f;
}

function applyFilter() {
  const f = readFilter();
  if (f.from && f.to && f.from >= f.to) {
    $('count').textContent = t('badDates');
    return;
  }
  state.matched = state.events.filter((e) => matches(e, f));
  if ($('f-order').value === 'desc') state.matched.reverse();
  state.shown = SHOW_STEP;
  renderTable();
}

$('filter-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  await loadNew();
  applyFilter();
});
$('clear').addEventListener('click', () => {
  for (const id of ['f-from', 'f-to', 'f-type', 'f-compartment', 'f-dossier']) $(id).value = '';
  applyFilter();
});
$('more').addEventListener('click', () => {
  state.shown += SHOW_STEP;
  renderTable();
});

function renderTable() {
  const rows = state.matched.slice(0, state.shown);
  $('events-body').replaceChildren(
    ...rows.map((e) =>
      h(
        'tr',
        { dataset: { seq: String(e.seq), type: e.type } },
        h('td', { text: String(e.seq) }),
        h('td', { class: 'nowrap', text: formatTime(e.at, i18n.lang), title: e.at }),
        h('td', { text: e.type }),
        h('td', { text: e.actor }),
        h('td', { text: e.compartment ?? '' }),
        h('td', { text: e.dossier ?? '' }),
        h('td', { class: 'mono', text: e.data ? JSON.stringify(e.data) : '' }),
        h('td', { class: 'mono nowrap', title: e.hash, text: `${e.hash.slice(0, 12)}…` }),
      ),
    ),
  );
  $('events').hidden = rows.length === 0;
  $('events-empty').hidden = rows.length > 0;
  $('more').hidden = state.matched.length <= state.shown;
  renderCount();
}

// ---------- verify ----------
$('verify').addEventListener('click', async () => {
  const out = $('verify-result');
  out.hidden = false;
  out.className = '';
  out.textContent = t('verifying');
  await loadNew();
  const r = await session.call('GET', '/api/v1/audit/verify');
  if (r.status !== 200) {
    state.verify = null;
    out.textContent = r.status === 0 ? t('network') : t('failed', { message: r.body?.message ?? r.status });
    return;
  }
  state.verify = { server: r.body, links: checkLinks(state.events) };
  renderVerify();
});

function renderVerify() {
  const out = $('verify-result');
  if (!state.verify) return;
  const { server, links } = state.verify;
  const ok = server.ok && links.ok;
  out.className = ok ? 'verify-ok' : 'verify-bad';
  out.dataset.ok = String(ok);
  out.replaceChildren(
    server.ok ? t('verifyOk', { count: server.count, head: `${server.head.slice(0, 16)}…` }) : t('verifyBad', { at: server.brokenAt ?? '?', reason: server.reason ?? '' }),
    ' ',
    links.ok ? t('linksOk', { n: links.count }) : t('linksBad', { at: links.at }),
  );
}

// ---------- export ----------
$('export').addEventListener('click', () => {
  // Exported in seq order whatever the screen's order, so the file reads as a trail.
  const events = [...state.matched].sort((a, b) => a.seq - b.seq);
  const blob = new Blob([toCsv(events)], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  const a = h('a', { href: url, download: `audit-${stamp}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
});

// ---------- start ----------
i18n.setLang(i18n.lang);
if (session.get()) showTrail();
else showLogin();
document.body.dataset.ready = 'true';
