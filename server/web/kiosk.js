// The citizen's kiosk: phone number, then pickup code, then the door that opened.
// The on-screen keypad and a USB keypad (digits, Backspace, Enter) drive the same steps.
// Nothing here asks the locker about a phone number before the code is entered, and every
// wrong answer reads the same, so the screen never tells whether a phone has a dossier.
import { call } from './lib/api.js';
import { drawBank, fetchLayout } from './lib/bank.js';
import { cue } from './lib/cue.js';
import { createI18n } from './lib/i18n.js';
import { createVoice } from './lib/voice.js';
import { KIOSK_TEXT, SPOKEN } from './kiosk-text.js';

const IDLE_MS = 45_000; // quiet time on a half-typed screen before the warning
const WARN_S = 15; // the warning's own countdown
const RESULT_S = 30; // how long the result stays when the door is not opened (or its state is unknown)
const SHUT_S = 5; // how long "the door is shut" stays before the next citizen's start screen
const OPEN_MAX_S = 180; // a door left open this long: back to the start anyway (the console alarms)
const DOOR_POLL_MS = 1000;
const RESEND_COOLDOWN_MS = 60_000;
const CODE_LENGTH = 6;

const $ = (id) => document.getElementById(id);
const i18n = createI18n(KIOSK_TEXT, 'vi');
const el = {
  body: document.body,
  entry: $('screen-entry'),
  wait: $('screen-wait'),
  result: $('screen-result'),
  form: $('entry-form'),
  stepTitle: $('step-title'),
  phoneField: $('phone-field'),
  codeField: $('code-field'),
  phone: $('phone'),
  code: $('code'),
  echo: $('phone-echo'),
  message: $('message'),
  busy: $('busy'),
  codeActions: $('code-actions'),
  back: $('back'),
  resend: $('resend'),
  keypad: $('keypad'),
  countdown: $('countdown'),
  doorNumber: $('door-number'),
  bank: $('bank'),
  resultReset: $('result-reset'),
  done: $('done'),
  lang: $('lang'),
  idle: $('idle'),
  idleCount: $('idle-count'),
  stay: $('stay'),
  simLink: $('sim-link'),
  help: $('help'),
  hotline: $('contact-hotline'),
  hours: $('contact-hours'),
  takeIt: $('take-it'),
  doorShut: $('door-shut'),
};
const voice = createVoice($('voice'));
let office = { hotline: null, hours: null };

let step = 'phone';
let busy = false;
let layout = null;
let lastMessage = null; // {key, kind}: re-rendered when the language changes
let resendBlockedUntil = 0;
const timers = { idle: 0, warn: 0, wait: 0, result: 0, door: 0 };
let doorToken = null;

// ---------- language ----------
function renderLang() {
  el.lang.textContent = i18n.t('langButton');
  el.lang.lang = i18n.other();
  el.stepTitle.textContent = i18n.t(step === 'code' ? 'stepCode' : 'stepPhone');
  renderContact();
  if (lastMessage) showMessage(lastMessage.key, lastMessage.kind, { quiet: true });
  if (step === 'result') labelBank(Number(el.doorNumber.textContent));
}

// ---------- the office's contact (from the locker's configuration) ----------
function renderContact() {
  el.hotline.textContent = office.hotline ? i18n.t('helpHotline', { hotline: office.hotline }) : i18n.t('helpDesk');
  el.hours.textContent = office.hours ? i18n.t('helpHours', { hours: office.hours }) : '';
  el.hours.hidden = !office.hours;
}

// ---------- voice ----------
/** What the kiosk says on entering each screen. */
function promptFor(s) {
  if (s === 'phone') return ['sayPhone'];
  if (s === 'code') return ['sayCode'];
  if (s === 'wait') return ['waitText'];
  if (s === 'result') return ['doorOpenBefore', `n${el.doorNumber.textContent}`, 'doorOpenAfter', 'takeIt'];
  return [];
}
function say(names) {
  voice.say(i18n.lang, names);
}
i18n.onChange(renderLang);
el.lang.addEventListener('click', () => {
  i18n.setLang(i18n.other());
  say(lastMessage && SPOKEN.includes(lastMessage.key) ? [lastMessage.key] : promptFor(step));
  currentInput()?.focus();
});

// ---------- messages ----------
function showMessage(key, kind = 'error', { quiet = false } = {}) {
  lastMessage = { key, kind };
  el.message.textContent = i18n.t(key);
  el.message.classList.toggle('info', kind === 'info');
  el.message.hidden = false;
  if (!quiet) say([key]);
}
function clearMessage() {
  lastMessage = null;
  el.message.hidden = true;
  el.message.textContent = '';
}

// ---------- screens ----------
function show(screen) {
  el.entry.hidden = screen !== 'entry';
  el.wait.hidden = screen !== 'wait';
  el.result.hidden = screen !== 'result';
}

function goPhone({ keepPhone = false, quiet = false } = {}) {
  step = 'phone';
  el.body.dataset.step = step;
  show('entry');
  el.phoneField.hidden = false;
  el.codeField.hidden = true;
  el.back.hidden = true;
  el.help.hidden = false;
  el.resend.disabled = Date.now() < resendBlockedUntil;
  if (!keepPhone) el.phone.value = '';
  el.code.value = '';
  el.stepTitle.textContent = i18n.t('stepPhone');
  setBusy(false);
  el.phone.focus();
  if (quiet) voice.stop();
  else say(promptFor('phone'));
}

function goCode({ quiet = false } = {}) {
  step = 'code';
  el.body.dataset.step = step;
  show('entry');
  el.phoneField.hidden = true;
  el.codeField.hidden = false;
  el.back.hidden = false;
  el.help.hidden = true;
  el.echo.textContent = groupPhone(el.phone.value);
  el.code.value = '';
  el.stepTitle.textContent = i18n.t('stepCode');
  el.resend.disabled = Date.now() < resendBlockedUntil;
  setBusy(false);
  el.code.focus();
  if (!quiet) say(promptFor('code'));
}

function goWait(seconds) {
  step = 'wait';
  el.body.dataset.step = step;
  clearMessage();
  show('wait');
  stopIdle();
  let left = Math.max(1, Math.ceil(seconds));
  const render = () => {
    el.countdown.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  };
  render();
  say(promptFor('wait'));
  clearInterval(timers.wait);
  timers.wait = setInterval(() => {
    left--;
    if (left > 0) return render();
    clearInterval(timers.wait);
    goCode({ quiet: true });
    showMessage('canRetry', 'info');
    armIdle();
  }, 1000);
}

function goResult(compartment, token) {
  step = 'result';
  el.body.dataset.step = step;
  delete el.body.dataset.door;
  clearMessage();
  stopIdle();
  el.phone.value = '';
  el.code.value = '';
  el.doorNumber.textContent = String(compartment);
  el.takeIt.hidden = false;
  el.doorShut.hidden = true;
  drawResultBank(compartment);
  show('result');
  cue('success');
  say(promptFor('result'));
  countdown(RESULT_S);
  doorToken = typeof token === 'string' ? token : null;
  clearInterval(timers.door);
  if (doorToken) timers.door = setInterval(watchDoor, DOOR_POLL_MS);
  el.done.focus();
}

/** The result screen's way back to the start: `seconds` from now, shown as it runs down. */
function countdown(seconds) {
  let left = seconds;
  const render = () => {
    el.resultReset.hidden = false;
    el.resultReset.textContent = i18n.t('resultReset', { n: left });
  };
  render();
  clearInterval(timers.result);
  timers.result = setInterval(() => {
    left--;
    if (left > 0) return render();
    reset();
  }, 1000);
}

// The door the pickup opened, through the pickup's own token: while it stands open the screen
// waits for the citizen; once it is shut again, the screen thanks them and goes back to the start.
let doorAsking = false;
let doorState = 'waiting';
async function watchDoor() {
  if (doorAsking || step !== 'result' || !doorToken) return;
  doorAsking = true;
  const token = doorToken;
  const r = await call('GET', `/api/v1/kiosk/door/${encodeURIComponent(token)}`);
  doorAsking = false;
  if (step !== 'result' || token !== doorToken) return;
  if (r.status !== 200 || !r.body) {
    if (r.status === 404) stopDoorWatch(); // token gone (restart, or too old): the countdown decides
    return;
  }
  const door = r.body.door;
  if (door === doorState) return;
  doorState = door;
  el.body.dataset.door = door;
  if (door === 'open') {
    // Someone is at the door: no countdown behind their back, only a limit for a door left open.
    countdown(OPEN_MAX_S);
    el.resultReset.hidden = true;
  } else if (door === 'shut') {
    stopDoorWatch();
    el.takeIt.hidden = true;
    el.doorShut.hidden = false;
    say(['doorShut']);
    countdown(SHUT_S);
  }
}
function stopDoorWatch() {
  clearInterval(timers.door);
  doorToken = null;
}

/** Back to a clean start screen in Vietnamese, for the next citizen. */
function reset({ quiet = false } = {}) {
  clearInterval(timers.result);
  clearInterval(timers.wait);
  stopDoorWatch();
  doorState = 'waiting';
  delete el.body.dataset.door;
  closeWarning();
  stopIdle();
  clearMessage();
  if (i18n.lang !== 'vi') i18n.setLang('vi');
  goPhone({ quiet });
}

// ---------- the bank picture ----------
function drawResultBank(compartment) {
  if (!layout) {
    el.bank.parentElement.hidden = true;
    return;
  }
  el.bank.parentElement.hidden = false;
  drawBank(el.bank, layout, (c) => {
    const d = document.createElement('div');
    d.className = c.number === compartment ? 'door mine' : 'door';
    d.textContent = String(c.number);
    return d;
  });
  labelBank(compartment);
}
function labelBank(compartment) {
  const c = layout?.compartments.find((x) => x.number === compartment);
  if (c) el.bank.setAttribute('aria-label', i18n.t('bankLabel', { n: c.number, c: c.column, r: c.row }));
}

// ---------- input ----------
function currentInput() {
  if (step === 'phone') return el.phone;
  if (step === 'code') return el.code;
  return null;
}

function sanitise(input) {
  const max = input === el.code ? CODE_LENGTH : 11;
  const clean = input.value.replace(/\D/g, '').slice(0, max);
  if (clean !== input.value) input.value = clean;
}

function groupPhone(p) {
  return p.length === 10 ? `${p.slice(0, 4)} ${p.slice(4, 7)} ${p.slice(7)}` : p;
}

function press(key) {
  const input = currentInput();
  if (!input || busy) return;
  noteActivity();
  if (key === 'ok') return submit();
  if (key === 'del') input.value = input.value.slice(0, -1);
  else input.value += key;
  sanitise(input);
  cue('key');
  afterChange(input);
}

function afterChange(input) {
  if (input === el.code && el.code.value.length === CODE_LENGTH) submit();
}

function submit() {
  if (busy) return;
  if (step === 'phone') return submitPhone();
  if (step === 'code') return submitCode();
}

function normalisePhone(raw) {
  const d = raw.replace(/\D/g, '');
  if (/^84\d{9}$/.test(d)) return `0${d.slice(2)}`;
  return d;
}

function submitPhone() {
  const phone = normalisePhone(el.phone.value);
  if (!/^0\d{9}$/.test(phone)) {
    showMessage('phoneInvalid');
    cue('error');
    el.phone.focus();
    return;
  }
  el.phone.value = phone;
  clearMessage();
  goCode();
}

async function submitCode() {
  const code = el.code.value;
  if (code.length !== CODE_LENGTH) {
    showMessage('codeShort');
    cue('error');
    el.code.focus();
    return;
  }
  setBusy(true);
  clearMessage();
  const r = await call('POST', '/api/v1/pickups', { body: { phone: el.phone.value, code } });
  setBusy(false);
  if (r.status === 200 && r.body && Number.isInteger(r.body.compartment)) return goResult(r.body.compartment, r.body.doorToken);
  el.code.value = '';
  if (r.status === 429) {
    cue('error');
    return goWait(r.retryAfter ?? 30);
  }
  if (r.status === 401 || r.status === 400) showMessage('wrongCode');
  else if (r.status === 503 && r.body?.error === 'door_fault') showMessage('doorFault');
  else showMessage('unavailable');
  cue('error');
  el.code.focus();
}

async function resend() {
  noteActivity();
  if (step === 'phone') {
    // From the first step: the number typed so far is the one to send to, if it is one.
    const phone = normalisePhone(el.phone.value);
    if (!/^0\d{9}$/.test(phone)) {
      showMessage('resendNeedsPhone', 'info');
      el.phone.focus();
      return;
    }
    el.phone.value = phone;
    goCode({ quiet: true });
  }
  if (step !== 'code' || Date.now() < resendBlockedUntil) return;
  resendBlockedUntil = Date.now() + RESEND_COOLDOWN_MS;
  el.resend.disabled = true;
  setTimeout(() => {
    el.resend.disabled = false;
  }, RESEND_COOLDOWN_MS);
  const r = await call('POST', '/api/v1/pickups/resend', { body: { phone: el.phone.value } });
  // 202 whether or not anything was sent; only a failure to reach the locker reads differently.
  showMessage(r.status === 0 || r.status >= 500 ? 'resendFailed' : 'resent', 'info');
  if (step === 'code') el.code.focus();
}

function setBusy(on) {
  busy = on;
  el.busy.hidden = !on;
  for (const b of el.keypad.querySelectorAll('button')) b.disabled = on;
}

// Keypad: pressing a key must not take the focus away from the field being typed into.
for (const b of el.keypad.querySelectorAll('button')) {
  const keep = (e) => e.preventDefault();
  b.addEventListener('pointerdown', keep);
  b.addEventListener('mousedown', keep);
  b.addEventListener('click', () => press(b.dataset.key));
}

for (const input of [el.phone, el.code]) {
  input.addEventListener('input', () => {
    sanitise(input);
    noteActivity();
    afterChange(input);
  });
}
el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  submit();
});
el.back.addEventListener('click', () => {
  clearMessage();
  goPhone({ keepPhone: true });
});
el.resend.addEventListener('click', resend);
el.done.addEventListener('click', reset);

// A keyboard with nothing focused (or a keypad key focused with the mouse) still types.
document.addEventListener('keydown', (e) => {
  if (el.idle.open) {
    e.preventDefault();
    return stayHere();
  }
  noteActivity();
  const target = e.target;
  if (target === el.phone || target === el.code) {
    if (e.key === 'Enter') {
      e.preventDefault();
      return submit();
    }
    if (e.key === 'Backspace' || e.key === 'Tab' || /^\d$/.test(e.key) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key.length === 1) e.preventDefault(); // letters never reach the field
    return;
  }
  if (target instanceof HTMLButtonElement && (e.key === 'Enter' || e.key === ' ')) return; // the button's own action
  if (step === 'result' && e.key === 'Enter') {
    e.preventDefault();
    return reset();
  }
  if (/^\d$/.test(e.key)) {
    e.preventDefault();
    press(e.key);
    currentInput()?.focus();
  } else if (e.key === 'Backspace') {
    e.preventDefault();
    press('del');
    currentInput()?.focus();
  } else if (e.key === 'Enter') {
    e.preventDefault();
    press('ok');
  }
});

// ---------- inactivity ----------
function stopIdle() {
  clearTimeout(timers.idle);
}
function armIdle() {
  stopIdle();
  if (step !== 'phone' && step !== 'code') return;
  timers.idle = setTimeout(onIdle, IDLE_MS);
}
function noteActivity() {
  if (!el.idle.open) armIdle();
}
function somethingToClear() {
  return step === 'code' || el.phone.value !== '' || i18n.lang !== 'vi' || lastMessage !== null;
}
function onIdle() {
  if (!somethingToClear()) return;
  let left = WARN_S;
  el.idleCount.textContent = String(left);
  el.idle.showModal();
  el.stay.focus();
  cue('warning');
  say(['idleTitle']);
  clearInterval(timers.warn);
  timers.warn = setInterval(() => {
    left--;
    el.idleCount.textContent = String(left);
    if (left <= 0) reset({ quiet: true });
  }, 1000);
}
function closeWarning() {
  clearInterval(timers.warn);
  if (el.idle.open) el.idle.close();
}
function stayHere() {
  closeWarning();
  armIdle();
  currentInput()?.focus();
}
el.stay.addEventListener('click', stayHere);
el.idle.addEventListener('cancel', (e) => {
  e.preventDefault();
  stayHere();
});
document.addEventListener('pointerdown', () => noteActivity());

// ---------- start ----------
i18n.setLang('vi');
renderContact();
goPhone({ quiet: true });
armIdle();
// The office's hotline and hours, and the voice; until they arrive the help line names the desk.
fetch('/api/v1/kiosk/settings', { cache: 'no-store' })
  .then((r) => (r.ok ? r.json() : null))
  .then(
    (s) => {
      if (!s) return;
      office = s.office ?? office;
      renderContact();
      voice.configure(s.voice ?? { on: false });
      if (step === 'phone' && el.phone.value === '') say(promptFor('phone'));
      el.body.dataset.settings = 'true';
    },
    () => {},
  );
fetchLayout().then(
  (l) => {
    layout = l;
  },
  () => {
    layout = null;
  },
);
// On a laptop demo (simulated doors) offer the simulator panel; a real kiosk has none.
fetch('/api/v1/sim/doors', { cache: 'no-store' }).then(
  (r) => {
    el.simLink.hidden = !r.ok;
  },
  () => {},
);
el.body.dataset.ready = 'true';
