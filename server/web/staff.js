// The staff console: register and load dossiers, watch every door live, deal with alarms.
import { Session } from './lib/api.js';
import { drawBank, fetchLayout } from './lib/bank.js';
import { cue } from './lib/cue.js';
import { confirmButton, h } from './lib/dom.js';
import { createI18n, formatTime } from './lib/i18n.js';
import { wireLogin } from './lib/login.js';
import { openStream } from './lib/stream.js';
import { ALARM_ACK_TYPE, ALARM_TYPES as ALARM_TYPE_LIST, DOOR_ALARM_TYPES } from './lib/alarm-types.js';
import { errorText } from './lib/error-text.js';
import { STAFF_TEXT } from './staff-text.js';

const ALARM_TYPES = new Set(ALARM_TYPE_LIST);
const DOOR_ALARMS = new Set(DOOR_ALARM_TYPES);
const PHONE_RE = /^(0\d{9}|\+84\d{9}|84\d{9})$/;
const CODE_RE = /^[A-Za-z0-9._-]{1,64}$/;
const USERNAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_PASSWORD = 8;

const $ = (id) => document.getElementById(id);
const i18n = createI18n(STAFF_TEXT, localStorage.getItem('locker.staff.lang') ?? 'vi');
const t = i18n.t;
const session = new Session('locker.staff.session', ['staff', 'admin']);

const state = {
  layout: null,
  cells: new Map(),
  compartments: new Map(),
  // Alarms nobody has acknowledged yet (on any console: acknowledgements live on the locker).
  alarms: [],
  ackNotes: new Map(),
  // The dossier shown in the details area (find by code or phone).
  shown: null,
  dossiers: { loading: [], ready: [], expired: [] },
  selected: null,
  stream: null,
  refreshTimer: 0,
  users: [],
  passwordFor: null,
  // The dossier just registered on this console: shown next to the form until the next one.
  current: null,
};

// ---------- language ----------
const langButton = $('lang');
function renderLang() {
  langButton.textContent = t('langButton');
  langButton.lang = i18n.other();
  localStorage.setItem('locker.staff.lang', i18n.lang);
  if (!$('console').hidden) renderAll();
}
i18n.onChange(renderLang);
langButton.addEventListener('click', () => i18n.setLang(i18n.other()));

// ---------- notes ----------
// Each note remembers what it says, so a language switch re-words it. '@error' is an API error
// code, worded by the shared table: the API's English `message` never reaches the screen.
const notes = new Map();
const words = (key, vars) => (key === '@error' ? errorText(vars.code, i18n.lang) : t(key, vars));
let toastTimer = 0;
function toast(key, vars = {}, kind = 'ok', target = $('toast')) {
  notes.set(target, { key, vars });
  target.textContent = words(key, vars);
  target.className = `note ${kind}${target.id === 'toast' ? ' toast' : ''}`;
  target.hidden = false;
  // The pinned note covers a strip of the page: it goes after a while, or at a click.
  if (target.id === 'toast') {
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      target.hidden = true;
    }, 12_000);
  }
}
$('toast').addEventListener('click', () => {
  $('toast').hidden = true;
});
i18n.onChange(() => {
  for (const [target, n] of notes) if (target.isConnected && !target.hidden) target.textContent = words(n.key, n.vars);
});
function apiError(r, target) {
  if (r.status === 0) return toast('network', {}, 'error', target);
  const code = r.body?.error ?? `HTTP ${r.status}`;
  toast('@error', { code }, 'error', target);
}
/** Where a note about dossier `code` goes: next to the form when it is the one being loaded, else pinned. */
const noteFor = (code) => (state.current && sameCode(state.current.code, code) ? $('register-note') : $('toast'));
const sameCode = (a, b) => String(a).toUpperCase() === String(b).toUpperCase();

// ---------- login / logout ----------
session.onExpired = () => showLogin();
wireLogin({
  form: $('login-form'),
  user: $('username'),
  password: $('password'),
  note: $('login-note'),
  session,
  i18n,
  onLoggedIn: () => showConsole(),
});
$('logout').addEventListener('click', () => {
  session.logout();
  showLogin();
});

function showLogin() {
  state.stream?.stop();
  state.stream = null;
  state.current = null;
  renderCurrent();
  $('register-note').hidden = true;
  $('toast').hidden = true;
  $('console').hidden = true;
  unmountAccounts();
  $('logout').hidden = true;
  $('who').hidden = true;
  $('live').hidden = true;
  $('login').hidden = false;
  $('username').focus();
}

async function showConsole() {
  const s = session.get();
  if (!s) return showLogin();
  $('login').hidden = true;
  $('console').hidden = false;
  $('logout').hidden = false;
  $('who').hidden = false;
  $('who').textContent = t('signedInAs', { user: s.username, role: s.role });
  $('reg-code').focus();
  if (!state.layout) {
    try {
      state.layout = await fetchLayout();
    } catch {
      state.layout = { columns: 1, rows: 1, compartments: [] };
    }
  }
  drawGrid();
  await refreshDossiers();
  await refreshUsers();
  startStream();
  fetch('/api/v1/sim/doors', { cache: 'no-store' }).then(
    (r) => {
      $('sim-link').hidden = !r.ok;
    },
    () => {},
  );
}

// ---------- live stream ----------
function setLive(mode) {
  const live = $('live');
  live.hidden = false;
  live.classList.toggle('on', mode === 'live');
  live.dataset.t = mode === 'live' ? 'live' : 'offline';
  live.textContent = t(live.dataset.t);
  document.body.dataset.live = mode;
}

function startStream() {
  state.stream?.stop();
  let snapshots = 0;
  state.stream = openStream('/api/v1/events/stream', () => session.get()?.token, {
    onState: setLive,
    onUnauthorized: () => {
      session.logout();
      showLogin();
    },
    onMessage: (name, msg) => {
      if (Array.isArray(msg.compartments)) {
        for (const c of msg.compartments) state.compartments.set(c.number, c);
        renderGrid();
      }
      if (name === 'snapshot') {
        // A snapshot after a reconnect: dossiers may have changed while the stream was down.
        if (snapshots++ > 0) scheduleRefresh();
        state.alarms = msg.alarms ?? [];
        renderAlarms();
        renderLoading();
        return;
      }
      if (name !== 'change') return;
      let dossierTouched = false;
      let newAlarm = false;
      for (const e of msg.events ?? []) {
        // Handled on this or another console: gone everywhere at once.
        if (e.type === ALARM_ACK_TYPE && typeof e.alarmSeq === 'number') state.alarms = state.alarms.filter((a) => a.seq !== e.alarmSeq);
        if (ALARM_TYPES.has(e.type) && !state.alarms.some((a) => a.seq === e.seq)) {
          state.alarms.push(e);
          newAlarm = true;
        }
        if (e.dossier || e.type.startsWith('dossier.') || e.type.startsWith('sms.')) dossierTouched = true;
        // A dossier that left loading leaves the list now, not at the refresh a moment later.
        if (e.dossier && LEFT_LOADING.has(e.type)) state.dossiers.loading = state.dossiers.loading.filter((d) => !sameCode(d.code, e.dossier));
        currentHeard(e);
      }
      if (newAlarm) cue('warning');
      renderAlarms();
      renderLoading();
      renderCurrent();
      if (dossierTouched) scheduleRefresh();
    },
  });
}

// ---------- dossiers ----------
/** Events after which a dossier is no longer waiting to be loaded. */
const LEFT_LOADING = new Set(['dossier.ready', 'dossier.withdrawn', 'dossier.cancelled']);
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refreshDossiers, 150);
}

async function refreshDossiers() {
  const [loading, ready, expired] = await Promise.all(
    ['loading', 'ready', 'expired'].map((s) => session.call('GET', `/api/v1/dossiers?status=${s}`)),
  );
  if (loading.status === 200) state.dossiers.loading = loading.body.dossiers;
  if (ready.status === 200) state.dossiers.ready = ready.body.dossiers;
  if (expired.status === 200) state.dossiers.expired = expired.body.dossiers;
  renderLoading();
  renderReady();
  renderAlarms();
  renderCellDetails();
  currentFromLists();
  if (state.shown) refreshShown();
}

function dossierIn(number) {
  for (const list of [state.dossiers.loading, state.dossiers.ready, state.dossiers.expired]) {
    const d = list.find((x) => x.compartment === number);
    if (d) return d;
  }
  return null;
}

async function withdraw(code) {
  const r = await session.call('POST', `/api/v1/dossiers/${encodeURIComponent(code)}/withdraw`);
  const target = noteFor(code);
  if (r.status === 200) {
    toast('withdrawnOk', { code, n: r.body.compartment }, 'ok', target);
    if (target.id === 'register-note') setCurrent({ status: 'withdrawn' });
  } else apiError(r, target);
  await refreshDossiers();
}

async function resend(code) {
  const r = await session.call('POST', `/api/v1/dossiers/${encodeURIComponent(code)}/resend`);
  if (r.status === 200) toast('resentOk', { code });
  else apiError(r);
  await refreshDossiers();
}

async function confirmLoaded(code) {
  const r = await session.call('POST', `/api/v1/dossiers/${encodeURIComponent(code)}/loaded`);
  const target = noteFor(code);
  if (r.status === 200) {
    toast('loadedOk', { code, n: r.body.compartment }, 'ok', target);
    if (target.id === 'register-note') setCurrent({ status: 'ready', announced: true });
  } else apiError(r, target);
  await refreshDossiers();
}

// ---------- the dossier being loaded, next to the form ----------
/** Follows the dossier just registered through the stream: its door, and its confirmation. */
function currentHeard(e) {
  const c = state.current;
  if (!c) return;
  if (e.compartment === c.compartment && c.status === 'loading') {
    if (e.type === 'door.opened') c.doorOpened = true;
  }
  if (!e.dossier || !sameCode(e.dossier, c.code)) return;
  if (e.type === 'dossier.ready') setCurrent({ status: 'ready', byDoor: e.actor === 'system' });
  else if (e.type === 'dossier.withdrawn') setCurrent({ status: 'withdrawn' });
  else if (e.type === 'dossier.cancelled') setCurrent({ status: 'cancelled' });
}

/** A refresh may have seen a change the stream missed (a reconnect). */
function currentFromLists() {
  const c = state.current;
  if (!c || c.status !== 'loading') return;
  const ready = state.dossiers.ready.find((d) => sameCode(d.code, c.code));
  if (ready) setCurrent({ status: 'ready', byDoor: ready.confirmedBy === 'door' });
}

function setCurrent(change) {
  const c = state.current;
  if (!c) return;
  const was = c.status;
  Object.assign(c, change);
  // Said once, where the clerk looks: the note that said "unlocked" now says "ready".
  if (c.status === 'ready' && was !== 'ready' && !c.announced) {
    c.announced = true;
    toast(c.byDoor ? 'autoLoadedOk' : 'loadedOk', { code: c.code, n: c.compartment }, 'ok', $('register-note'));
    focusCode();
  }
  renderCurrent();
}

function renderCurrent() {
  const box = $('current');
  const c = state.current;
  if (!c) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.dataset.status = c.status;
  box.dataset.code = c.code;
  const door = state.compartments.get(c.compartment)?.door ?? 'closed';
  if (door === 'open') c.doorOpened = true;
  box.dataset.door = door;
  $('current-code').textContent = t('currentCode', { code: c.code });
  $('current-door').textContent = t('currentDoor', { n: c.compartment });
  let step;
  if (c.status === 'loading') {
    if (door === 'open') step = c.autoConfirm ? 'stepShutAuto' : 'stepShut';
    else if (c.doorOpened) step = 'stepConfirm';
    else step = c.autoConfirm ? 'stepOpenAuto' : 'stepOpen';
  } else step = `step_${c.status}`;
  box.dataset.step = step;
  $('current-step').textContent = t(step, { code: c.code, n: c.compartment });
  const larger = c.compartmentSize && c.compartmentSize !== c.size;
  $('current-size').hidden = !larger;
  if (larger) $('current-size').textContent = t('largerUsed', { asked: t(`size${c.size}`), given: t(`size${c.compartmentSize}`), n: c.compartment });
  $('current-actions').replaceChildren(
    ...(c.status === 'loading'
      ? [
          h('button', { type: 'button', class: 'btn primary', text: t('confirmLoaded'), dataset: { action: 'loaded', code: c.code }, onclick: () => confirmLoaded(c.code) }),
          withdrawButton(c.code),
        ]
      : []),
  );
}

function withdrawButton(code) {
  return confirmButton({ label: t('withdraw'), confirmLabel: t('withdrawConfirm'), onConfirm: () => withdraw(code), dataset: { action: 'withdraw', code } });
}

// ---------- register (barcode scanner friendly) ----------
const regForm = $('register-form');
const regCode = $('reg-code');
const regPhone = $('reg-phone');
const regNote = $('register-note');
const defaultSize = regForm.querySelector('input[name=size]:checked');

// A scan replaces whatever was in the field, also when the field is clicked first (the click's
// mouseup would otherwise drop the selection).
let justFocused = false;
regCode.addEventListener('focus', () => {
  regCode.select();
  justFocused = true;
  setTimeout(() => {
    justFocused = false;
  }, 300);
});
regCode.addEventListener('mouseup', (e) => {
  if (justFocused) e.preventDefault();
});
// Scanners end with Enter (some with Tab): move on to the phone number, never submit, so a
// scan cannot register a dossier before the clerk has checked the phone number and size.
regCode.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  e.preventDefault();
  regCode.value = regCode.value.trim();
  if (!regCode.value) return;
  regPhone.focus();
  regPhone.select();
});
const focusCode = () => {
  regCode.focus();
  regCode.select();
};
// A scan while nothing is focused still lands in the code field.
document.addEventListener('keydown', (e) => {
  if ($('console').hidden || e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1 || e.key === ' ') return;
  const a = document.activeElement;
  if (a && (a.tagName === 'INPUT' || a.tagName === 'SELECT' || a.tagName === 'TEXTAREA')) return;
  e.preventDefault();
  regCode.value = e.key;
  regCode.focus();
  regCode.setSelectionRange(regCode.value.length, regCode.value.length);
});

regForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const code = regCode.value.trim();
  const phone = regPhone.value.replace(/[\s.-]/g, '');
  const size = new FormData(regForm).get('size') ?? 'S';
  if (!CODE_RE.test(code)) {
    toast('needCode', {}, 'error', regNote);
    return focusCode();
  }
  if (!PHONE_RE.test(phone)) {
    toast('needPhone', {}, 'error', regNote);
    return regPhone.focus();
  }
  const button = regForm.querySelector('button[type=submit]');
  button.disabled = true;
  const r = await session.call('POST', '/api/v1/dossiers', { code, phone, size });
  button.disabled = false;
  if (r.status === 201) {
    const b = r.body;
    state.current = {
      code: b.code ?? code,
      compartment: b.compartment,
      size,
      compartmentSize: b.compartmentSize ?? size,
      autoConfirm: b.autoConfirm === true,
      status: 'loading',
      doorOpened: false,
      announced: false,
    };
    toast(state.current.autoConfirm ? 'registeredAuto' : 'registered', { n: b.compartment, code: state.current.code }, 'ok', regNote);
    regCode.value = '';
    regPhone.value = '';
    // Each dossier starts from the usual size: the last one's choice must not carry over.
    defaultSize.checked = true;
    renderCurrent();
    regCode.focus();
    await refreshDossiers();
  } else {
    apiError(r, regNote);
    // Ready for the next scan, unless only the phone number was wrong.
    if (r.body?.error === 'invalid_phone') regPhone.focus();
    else focusCode();
  }
});

// ---------- find (by dossier code or by the citizen's phone) and the dossier's details ----------
$('find-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const raw = $('find-code').value.trim();
  const phone = raw.replace(/[\s.-]/g, '');
  const box = $('found');
  box.hidden = false;
  state.shown = null;
  if (PHONE_RE.test(phone)) {
    // In the body, so the number does not land in an access log.
    const r = await session.call('POST', '/api/v1/dossiers/search', { phone });
    if (r.status !== 200) return box.replaceChildren(h('p', { class: 'note error', text: r.status === 0 ? t('network') : errorText(r.body?.error ?? `HTTP ${r.status}`, i18n.lang) }));
    if (r.body.dossiers.length === 0) return box.replaceChildren(h('p', { class: 'note', text: t('noneForPhone') }));
    if (r.body.dossiers.length === 1) return showDossier(r.body.dossiers[0]);
    box.replaceChildren(
      h('p', { text: t('foundForPhone', { n: r.body.dossiers.length }) }),
      h(
        'ul',
        { class: 'plain-list', id: 'found-list' },
        ...r.body.dossiers.map((d) =>
          h(
            'li',
            { dataset: { code: d.code } },
            h('button', { type: 'button', class: 'btn small', text: `${d.code} (${t(`dossierStatus_${d.status}`)})`, onclick: () => showDossier(d) }),
          ),
        ),
      ),
    );
    return;
  }
  if (!CODE_RE.test(raw)) {
    box.replaceChildren(h('p', { class: 'note error', text: t('needCodeOrPhone') }));
    return;
  }
  const r = await session.call('GET', `/api/v1/dossiers/${encodeURIComponent(raw)}`);
  if (r.status !== 200) {
    box.replaceChildren(h('p', { class: 'note error', text: r.status === 404 ? t('notFoundDossier') : r.status === 0 ? t('network') : errorText(r.body?.error ?? `HTTP ${r.status}`, i18n.lang) }));
    return;
  }
  showDossier(r.body);
});

async function refreshShown() {
  const r = await session.call('GET', `/api/v1/dossiers/${encodeURIComponent(state.shown.code)}`);
  if (r.status === 200 && state.shown) showDossier(r.body, state.shown.revealed);
}

/** Asks for the reason every repair is audited with; null when the clerk cancels. */
function askReason(what) {
  const v = window.prompt(t('reasonPrompt', { what }));
  if (v === null) return null;
  const reason = v.trim().slice(0, 200);
  if (!reason) {
    toast('needReason', {}, 'error', $('found-note'));
    return null;
  }
  return reason;
}

async function repair(d, path, body, okKey) {
  const r = await session.call('POST', `/api/v1/dossiers/${encodeURIComponent(d.code)}/${path}`, body);
  if (r.status === 200) {
    // Shown again first: the note lives inside the details it is about.
    showDossier(r.body);
    toast(okKey, { code: d.code }, 'ok', $('found-note'));
    await refreshDossiers();
  } else apiError(r, $('found-note'));
  return r;
}

async function correctPhone(d) {
  const v = window.prompt(t('newPhonePrompt', { code: d.code }));
  if (v === null) return;
  const phone = v.replace(/[\s.-]/g, '');
  if (!PHONE_RE.test(phone)) return toast('needPhone', {}, 'error', $('found-note'));
  const reason = askReason(t('correctPhone'));
  if (reason) await repair(d, 'phone', { phone, reason }, 'phoneCorrectedOk');
}

async function extend(d) {
  const v = window.prompt(t('extendPrompt', { code: d.code }), '3');
  if (v === null) return;
  const days = Number(v.replace(',', '.'));
  if (!Number.isFinite(days) || days < 0.01 || days > 60) return toast('needDays', {}, 'error', $('found-note'));
  const reason = askReason(t(d.status === 'expired' ? 'revive' : 'extend'));
  if (reason) await repair(d, 'extend', { days, reason }, d.status === 'expired' ? 'revivedOk' : 'extendedOk');
}

async function revealPhone(d) {
  const reason = askReason(t('revealPhone'));
  if (!reason) return;
  const r = await session.call('POST', `/api/v1/dossiers/${encodeURIComponent(d.code)}/reveal-phone`, { reason });
  if (r.status === 200) showDossier(d, r.body.phone);
  else apiError(r, $('found-note'));
}

function showDossier(d, revealed = null) {
  // A refresh of the same dossier keeps the note about what was just done.
  const keptNote = state.shown?.code === d.code ? $('found-note') : null;
  state.shown = { code: d.code, revealed };
  const box = $('found');
  box.hidden = false;
  const live = ['loading', 'ready', 'expired'].includes(d.status);
  const locks = [
    d.codeLocked ? h('span', { class: 'badge bad', dataset: { flag: 'codeLocked' }, text: t('codeLocked') }) : null,
    d.lifetimeCapReached ? h('span', { class: 'badge bad', dataset: { flag: 'lifetimeCapReached' }, text: t('lifetimeCapReached') }) : null,
  ].filter(Boolean);
  const button = (key, action, onclick, cls = 'btn small') => h('button', { type: 'button', class: cls, text: t(key), dataset: { action, code: d.code }, onclick });
  box.replaceChildren(
    h(
      'dl',
      { dataset: { code: d.code } },
      h('dt', { text: t('findLabel') }), h('dd', { text: d.code }),
      h('dt', { text: t('statusOf') }), h('dd', { text: t(`dossierStatus_${d.status}`) }),
      h('dt', { text: t('compartment') }), h('dd', { text: String(d.compartment) }),
      h('dt', { text: t('phone') }), h('dd', { id: 'found-phone', text: revealed ?? d.phone }),
      h('dt', { text: t('colSms') }), h('dd', { text: t(`sms_${d.sms ?? 'none'}`) }),
      h('dt', { text: t('created') }), h('dd', { text: formatTime(d.createdAt, i18n.lang) }),
      h('dt', { text: t('expires') }), h('dd', { text: d.expiresAt ? formatTime(d.expiresAt, i18n.lang) : '–' }),
      h('dt', { text: t('wrongCodes') }), h('dd', {}, String(d.failedAttempts), ' ', ...locks),
    ),
    h(
      'div',
      { class: 'actions' },
      d.status === 'ready' ? button(d.codeLocked || d.lifetimeCapReached ? 'newCode' : 'resend', 'resend', () => resend(d.code)) : null,
      live ? button('correctPhone', 'phone', () => correctPhone(d)) : null,
      d.status === 'ready' || d.status === 'expired' ? button(d.status === 'expired' ? 'revive' : 'extend', 'extend', () => extend(d)) : null,
      revealed ? null : button('revealPhone', 'reveal-phone', () => revealPhone(d)),
      live ? withdrawButton(d.code) : null,
    ),
    keptNote ?? h('p', { id: 'found-note', class: 'note', role: 'status', hidden: true }),
  );
}

// ---------- the grid ----------
function drawGrid() {
  state.cells = drawBank($('grid'), state.layout, (c) =>
    h('button', {
      type: 'button',
      class: 'cell',
      'aria-pressed': 'false',
      onclick: () => {
        state.selected = state.selected === c.number ? null : c.number;
        renderGrid();
        renderCellDetails();
      },
    }),
    { proportional: false },
  );
  renderGrid();
}

function renderGrid() {
  for (const [number, cell] of state.cells) {
    const c = state.compartments.get(number);
    const place = state.layout.compartments.find((x) => x.number === number);
    const status = c?.status ?? 'free';
    const door = c?.door ?? 'closed';
    cell.className = `cell s-${status}${door === 'open' ? ' door-open' : ''}`;
    cell.dataset.status = status;
    cell.dataset.door = door;
    cell.setAttribute('aria-pressed', String(state.selected === number));
    cell.replaceChildren(
      h('span', { class: 'num' }, String(number), ' ', h('span', { class: 'size', text: `(${place?.size ?? c?.size ?? ''})` })),
      h('span', { class: 'status', text: t(`st_${status}`) }),
      h('span', { class: 'door', text: t(`door_${door}`) }),
    );
  }
  renderCellDetails();
}

function renderCellDetails() {
  const box = $('cell-details');
  const n = state.selected;
  if (n === null) {
    box.hidden = true;
    return;
  }
  const c = state.compartments.get(n);
  if (!c) return;
  box.hidden = false;
  const d = dossierIn(n);
  const reason = h('input', { id: 'disable-reason', maxlength: 200 });
  const actions = [];
  if (c.status !== 'disabled') {
    actions.push(
      h(
        'div',
        { class: 'inline-form' },
        h('div', { class: 'form-row' }, h('label', { for: 'disable-reason', text: t('reason') }), reason),
        h('button', { type: 'button', class: 'btn danger', text: t('disable'), dataset: { action: 'disable' }, onclick: () => setService(n, false, reason.value.trim()) }),
      ),
    );
  }
  if (c.status === 'disabled' || c.status === 'fault') {
    actions.push(h('button', { type: 'button', class: 'btn', text: t('enable'), dataset: { action: 'enable' }, onclick: () => setService(n, true) }));
  }
  // Repairs: unlock once more (a withdraw nobody opened in time, loading after a restart, a look
  // inside), and release once staff have checked the compartment is empty.
  if (c.status !== 'disabled') {
    actions.push(h('button', { type: 'button', class: 'btn', text: t('unlockAgain'), dataset: { action: 'unlock' }, onclick: () => repairCompartment(n, 'unlock') }));
  }
  if ((c.status === 'occupied' || c.status === 'loading' || c.status === 'fault') && c.door === 'closed') {
    actions.push(h('button', { type: 'button', class: 'btn danger', text: t('releaseEmpty'), dataset: { action: 'release' }, onclick: () => repairCompartment(n, 'release') }));
  }
  box.replaceChildren(
    h('h3', { text: t('cellName', { n }) }),
    h(
      'dl',
      {},
      h('dt', { text: t('size') }), h('dd', { text: c.size }),
      h('dt', { text: t('statusLabel') }), h('dd', { text: t(`st_${c.status}`) }),
      h('dt', { text: t('doorLabel') }), h('dd', { text: t(`door_${c.door}`) }),
      d ? [h('dt', { text: t('colCode') }), h('dd', { text: `${d.code} (${t(`dossierStatus_${d.status}`)})` })] : null,
    ),
    ...actions,
  );
}

async function repairCompartment(n, action) {
  const reason = askReason(t(action === 'unlock' ? 'unlockAgain' : 'releaseEmpty'));
  if (reason === null) return;
  const r = await session.call('POST', `/api/v1/compartments/${n}/${action}`, { reason });
  if (r.status === 200) {
    state.compartments.set(n, r.body);
    toast(action === 'unlock' ? 'unlockedAgainOk' : 'releasedOk', { n });
    renderGrid();
    if (action === 'release') void refreshDossiers();
  } else apiError(r);
}

async function setService(n, enable, reason) {
  const r = await session.call('POST', `/api/v1/compartments/${n}/${enable ? 'enable' : 'disable'}`, enable || !reason ? undefined : { reason });
  if (r.status === 200) {
    state.compartments.set(n, r.body);
    toast(enable ? 'enabledOk' : 'disabledOk', { n });
    renderGrid();
  } else apiError(r);
}

// ---------- lists ----------
function renderLoading() {
  const list = $('loading-list');
  const items = state.dossiers.loading;
  $('loading-empty').hidden = items.length > 0;
  list.replaceChildren(
    ...items.map((d) => {
      const door = state.compartments.get(d.compartment)?.door ?? 'closed';
      return h(
        'li',
        { class: 'loading-item', dataset: { code: d.code } },
        h('strong', { text: t('loadingItem', { code: d.code, n: d.compartment }) }),
        ' – ',
        h('span', { text: t(`door_${door}`) }),
        ' ',
        h('button', { type: 'button', class: 'btn primary small', text: t('confirmLoaded'), dataset: { action: 'loaded', code: d.code }, onclick: () => confirmLoaded(d.code) }),
        ' ',
        withdrawButton(d.code),
      );
    }),
  );
}

function renderReady() {
  const body = $('ready-body');
  const items = state.dossiers.ready;
  $('ready-empty').hidden = items.length > 0;
  $('ready-table').hidden = items.length === 0;
  body.replaceChildren(
    ...items.map((d) =>
      h(
        'tr',
        { dataset: { code: d.code } },
        h('td', { text: d.code }),
        h('td', { text: String(d.compartment) }),
        h('td', { text: d.phone }),
        h('td', { text: t(`sms_${d.sms ?? 'none'}`) }),
        h('td', { text: d.expiresAt ? formatTime(d.expiresAt, i18n.lang) : '–' }),
        h(
          'td',
          { class: 'actions' },
          h('button', { type: 'button', class: 'btn small', text: t('resend'), dataset: { action: 'resend', code: d.code }, onclick: () => resend(d.code) }),
          withdrawButton(d.code),
        ),
      ),
    ),
  );
}

function renderAlarms() {
  const open = state.alarms;
  const overdue = state.dossiers.expired;
  $('alerts').classList.toggle('calm', open.length === 0 && overdue.length === 0);
  $('calm').hidden = open.length > 0 || overdue.length > 0;
  $('alarm-list').replaceChildren(
    ...open
      .slice()
      .reverse()
      .map((a) => {
        const key = STAFF_TEXT.vi[`alarm.${a.type}`] ? `alarm.${a.type}` : 'alarm.other';
        const door = DOOR_ALARMS.has(a.type) && a.compartment ? state.compartments.get(a.compartment)?.door : null;
        // Kept across re-renders: a stream message must not wipe a note being typed.
        const note = h('input', {
          class: 'ack-note',
          maxlength: 200,
          'aria-label': t('ackNote'),
          placeholder: t('ackNote'),
          value: state.ackNotes.get(a.seq) ?? '',
          oninput: (ev) => state.ackNotes.set(a.seq, ev.target.value),
        });
        return h(
          'li',
          { dataset: { type: a.type, seq: String(a.seq) } },
          h('span', { class: 'what', text: t(key, { n: a.compartment ?? '?', d: a.dossier ?? '?', type: a.type }) }),
          door ? h('span', { class: 'when', text: t(door === 'open' ? 'doorNowOpen' : 'doorNowClosed') }) : null,
          h('span', { class: 'when', text: formatTime(a.at, i18n.lang) }),
          note,
          h('button', { type: 'button', class: 'btn small', text: t('ack'), onclick: () => acknowledge(a.seq, note.value) }),
        );
      }),
  );
  $('overdue').hidden = overdue.length === 0;
  $('overdue-list').replaceChildren(
    ...overdue.map((d) =>
      h(
        'li',
        { dataset: { code: d.code } },
        h('span', { class: 'what', text: t('overdueItem', { code: d.code, n: d.compartment, at: d.expiresAt ? formatTime(d.expiresAt, i18n.lang) : '–' }) }),
        withdrawButton(d.code),
      ),
    ),
  );
}

/** Acknowledged on the locker: every console (and the central office) sees it handled. */
async function acknowledge(seq, note = '') {
  const body = note.trim() ? { note: note.trim().slice(0, 200) } : undefined;
  const r = await session.call('POST', `/api/v1/alarms/${seq}/ack`, body);
  if (r.status === 200 || r.body?.error === 'already_acknowledged' || r.status === 404) {
    state.alarms = state.alarms.filter((a) => a.seq !== seq);
    state.ackNotes.delete(seq);
    renderAlarms();
  } else apiError(r);
}

function renderAll() {
  $('who').textContent = session.get() ? t('signedInAs', { user: session.get().username, role: session.get().role }) : '';
  if (document.body.dataset.live) setLive(document.body.dataset.live);
  renderGrid();
  renderLoading();
  renderReady();
  renderAlarms();
  renderUsers();
  renderCurrent();
}

// ---------- accounts (admins only; the locker answers 403 to anyone else) ----------
const isAdmin = () => session.get()?.role === 'admin';
const mounted = () => $('accounts').childElementCount > 0;

function mountAccounts() {
  const panel = $('accounts');
  if (mounted()) return;
  panel.replaceChildren($('accounts-template').content.cloneNode(true));
  i18n.apply(panel);
  $('password-cancel').addEventListener('click', closePasswordForm);
  $('password-form').addEventListener('submit', submitPassword);
  $('user-add-form').addEventListener('submit', submitNewUser);
  panel.hidden = false;
}

function unmountAccounts() {
  state.users = [];
  state.passwordFor = null;
  $('accounts').hidden = true;
  $('accounts').replaceChildren();
}

function accountsError(r) {
  const accountsNote = $('accounts-note');
  if (r.body?.error === 'not_found') return toast('userNotFound', {}, 'error', accountsNote);
  apiError(r, accountsNote);
}

const note = (key, vars, kind = 'ok') => toast(key, vars, kind, $('accounts-note'));

async function refreshUsers() {
  if (!isAdmin()) return unmountAccounts();
  mountAccounts();
  const r = await session.call('GET', '/api/v1/users');
  if (r.status !== 200) return accountsError(r);
  state.users = r.body.users;
  renderUsers();
}

function renderUsers() {
  if (!mounted()) return;
  const me = session.get()?.username;
  $('users-body').replaceChildren(
    ...state.users.map((u) => {
      const actions = [
        h('button', { type: 'button', class: 'btn small', text: t('setPassword'), dataset: { action: 'password' }, onclick: () => openPasswordForm(u.username) }),
      ];
      if (u.state === 'blocked') actions.push(h('button', { type: 'button', class: 'btn small', text: t('unlockUser'), dataset: { action: 'unlock' }, onclick: () => userAction(u.username, 'unlock') }));
      if (u.state === 'disabled') actions.push(h('button', { type: 'button', class: 'btn small', text: t('enableUser'), dataset: { action: 'enable' }, onclick: () => userAction(u.username, 'enable') }));
      // An admin cannot lock themselves out (the locker refuses it too).
      else if (u.username !== me) {
        actions.push(confirmButton({ label: t('disableUser'), confirmLabel: t('disableUserConfirm'), onConfirm: () => userAction(u.username, 'disable'), dataset: { action: 'disable' } }));
      }
      const stateText = u.state === 'blocked' ? t('user_blocked', { at: formatTime(u.blockedUntil, i18n.lang) }) : t(`user_${u.state}`);
      return h(
        'tr',
        { dataset: { user: u.username, state: u.state } },
        h('td', {}, u.username, u.username === me ? ` ${t('you')}` : ''),
        h('td', { text: t(`role_${u.role}`) }),
        h('td', { class: 'user-state', text: stateText }),
        h('td', { class: 'actions' }, ...actions),
      );
    }),
  );
  if (state.passwordFor) $('set-password-label').textContent = t('newPasswordFor', { user: state.passwordFor });
}

async function userAction(username, action) {
  const r = await session.call('POST', `/api/v1/users/${encodeURIComponent(username)}/${action}`);
  if (r.status !== 200) return accountsError(r);
  if (action === 'unlock') note(r.body.blockedAddresses > 0 ? 'userUnlockedIp' : 'userUnlocked', { user: username, n: r.body.blockedAddresses });
  else note(action === 'disable' ? 'userDisabled' : 'userEnabled', { user: username });
  await refreshUsers();
}

function openPasswordForm(username) {
  state.passwordFor = username;
  $('password-form').hidden = false;
  $('set-password').value = '';
  $('set-password-label').textContent = t('newPasswordFor', { user: username });
  $('set-password').focus();
}

function closePasswordForm() {
  state.passwordFor = null;
  $('password-form').hidden = true;
  $('set-password').value = '';
}

async function submitPassword(e) {
  e.preventDefault();
  const username = state.passwordFor;
  const password = $('set-password').value;
  if (!username) return;
  if (password.length < MIN_PASSWORD) {
    note('needPassword', {}, 'error');
    return $('set-password').focus();
  }
  const r = await session.call('POST', `/api/v1/users/${encodeURIComponent(username)}/password`, { password });
  if (r.status !== 200) return accountsError(r);
  closePasswordForm();
  note('passwordSet', { user: username });
  await refreshUsers();
}

async function submitNewUser(e) {
  e.preventDefault();
  const username = $('new-username').value.trim();
  const role = $('new-role').value;
  const password = $('new-password').value;
  if (!USERNAME_RE.test(username)) {
    note('needUsername', {}, 'error');
    return $('new-username').focus();
  }
  if (password.length < MIN_PASSWORD) {
    note('needPassword', {}, 'error');
    return $('new-password').focus();
  }
  const r = await session.call('POST', '/api/v1/users', { username, role, password });
  if (r.status !== 201) return accountsError(r);
  $('new-username').value = '';
  $('new-password').value = '';
  note('userAdded', { user: username });
  await refreshUsers();
}

// ---------- start ----------
i18n.setLang(i18n.lang);
if (session.get()) showConsole();
else showLogin();
document.body.dataset.ready = 'true';
