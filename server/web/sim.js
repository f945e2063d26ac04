// The simulator panel (only with LOCKER_DOORS=sim): anyone can open and close the simulated
// doors, so the whole flow can be shown and trained on a laptop.
import { call } from './lib/api.js';
import { drawBank } from './lib/bank.js';
import { h } from './lib/dom.js';
import { createI18n } from './lib/i18n.js';

const POLL_MS = 1000;
const TEXT = {
  vi: {
    title: 'Mô phỏng cửa tủ – ATM hồ sơ 24/7',
    heading: 'Mô phỏng cửa tủ',
    langButton: 'English',
    kiosk: 'Màn hình công dân',
    staff: 'Nhân viên',
    bankTitle: 'Tủ giả lập (LOCKER_DOORS=sim)',
    explain: 'Bấm vào một cửa để mở hoặc đóng nó, như tay người thật. Viền xanh: khóa đang nhả, cửa mở được. Mở một cửa đang khóa là mở cưỡng bức và sẽ báo động.',
    door: 'Ngăn {n}',
    open: 'Đang mở',
    closed: 'Đang đóng',
    unknown: 'Không rõ',
    unlocked: 'Khóa đang nhả',
    locked: 'Đang khóa',
    toOpen: 'Bấm để mở',
    toClose: 'Bấm để đóng',
    failed: 'Không thực hiện được: {message}',
  },
  en: {
    title: 'Door simulator – 24/7 document locker',
    heading: 'Door simulator',
    langButton: 'Tiếng Việt',
    kiosk: 'Citizen screen',
    staff: 'Staff',
    bankTitle: 'Simulated bank (LOCKER_DOORS=sim)',
    explain: "Press a door to open or close it, as a person's hand would. Green edge: the latch is released and the door can be opened. Opening a locked door is a forced open and raises an alarm.",
    door: 'Door {n}',
    open: 'Open',
    closed: 'Closed',
    unknown: 'Unknown',
    unlocked: 'Latch released',
    locked: 'Locked',
    toOpen: 'Press to open',
    toClose: 'Press to close',
    failed: 'That did not work: {message}',
  },
};

const $ = (id) => document.getElementById(id);
const i18n = createI18n(TEXT, localStorage.getItem('locker.sim.lang') ?? 'vi');
const t = i18n.t;
let doors = [];
let cells = new Map();

function render() {
  for (const d of doors) {
    const b = cells.get(d.number);
    if (!b) continue;
    b.className = `sim-door${d.door === 'open' ? ' open' : ''}${d.unlocked ? ' unlocked' : ''}`;
    b.dataset.door = d.door;
    b.dataset.unlocked = String(d.unlocked);
    b.replaceChildren(
      h('span', { class: 'num', text: t('door', { n: d.number }) }),
      h('span', { text: t(d.door) }),
      h('span', { text: t(d.unlocked ? 'unlocked' : 'locked') }),
      h('span', { class: 'hint', text: t(d.door === 'open' ? 'toClose' : 'toOpen') }),
    );
  }
}

async function poll() {
  const r = await call('GET', '/api/v1/sim/doors');
  if (r.status === 200) {
    doors = r.body.compartments;
    if (cells.size === 0) {
      const layout = {
        columns: Math.max(...doors.map((d) => d.column)),
        rows: Math.max(...doors.map((d) => d.row)),
        compartments: doors,
      };
      cells = drawBank($('bank'), layout, (c) => h('button', { type: 'button', class: 'sim-door', onclick: () => toggle(c.number) }));
    }
    render();
  }
}

async function toggle(number) {
  const d = doors.find((x) => x.number === number);
  const r = await call('POST', `/api/v1/sim/compartments/${number}/door`, { body: { open: d?.door !== 'open' } });
  const note = $('note');
  if (r.status !== 200) {
    note.hidden = false;
    note.textContent = t('failed', { message: r.body?.message ?? r.status });
  } else {
    note.hidden = true;
  }
  await poll();
}

i18n.onChange(() => {
  $('lang').textContent = t('langButton');
  $('lang').lang = i18n.other();
  localStorage.setItem('locker.sim.lang', i18n.lang);
  render();
});
$('lang').addEventListener('click', () => i18n.setLang(i18n.other()));
i18n.setLang(i18n.lang);
await poll();
setInterval(poll, POLL_MS);
document.body.dataset.ready = 'true';
