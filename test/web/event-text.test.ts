// Every audit event reads as a sentence in Vietnamese and English: the table in
// server/web/lib/event-text.js must cover every type the locker's code writes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_SENTENCES, EVENT_TYPES, eventFields, eventSentence, FIELD_LABELS } from '../../server/web/lib/event-text.js';

const SERVER = join(process.cwd(), 'server');
// Quoted names of this shape that are not event types.
const NOT_EVENTS = new Set(['sms.jsonl']);
const DOMAINS = 'dossier|sms|pickup|door|compartment|login|user|alarm';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'web' || name === 'dist' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every `domain.event` string the server's TypeScript names. */
function typesInSource(): Set<string> {
  const found = new Set<string>();
  const re = new RegExp(`['"\`]((?:${DOMAINS})\\.[a-z_]+)['"\`]`, 'g');
  for (const file of sources(SERVER)) for (const m of readFileSync(file, 'utf8').matchAll(re)) if (!NOT_EVENTS.has(m[1])) found.add(m[1]);
  return found;
}

describe('event sentences', () => {
  it('lists every event type the server writes', () => {
    const found = typesInSource();
    expect(found.size).toBeGreaterThan(40);
    expect([...found].filter((ty) => !EVENT_TYPES.includes(ty)).sort()).toEqual([]);
  });

  it('has a short name and a sentence in Vietnamese and in English for every known type', () => {
    for (const lang of ['vi', 'en'] as const) {
      expect(Object.keys(EVENT_SENTENCES[lang]).sort(), lang).toEqual([...EVENT_TYPES].sort());
      for (const ty of EVENT_TYPES) {
        const [label, sentence] = EVENT_SENTENCES[lang][ty];
        expect(label.trim(), `${lang} ${ty}`).not.toBe('');
        expect(sentence.trim(), `${lang} ${ty}`).not.toBe('');
        expect(sentence, `${lang} ${ty} is not the raw type`).not.toContain(ty);
      }
    }
    // The two languages are two texts, not one copied.
    for (const ty of EVENT_TYPES) expect(EVENT_SENTENCES.vi[ty][1], ty).not.toBe(EVENT_SENTENCES.en[ty][1]);
  });

  it('reads a pickup as the office says it, in both languages', () => {
    const e = { type: 'pickup.succeeded', actor: 'citizen', compartment: 7, dossier: 'H29.12-251203-0042' };
    expect(eventSentence(e, 'vi')).toBe('Công dân nhận hồ sơ H29.12-251203-0042 tại ngăn 7');
    expect(eventSentence(e, 'en')).toBe('A citizen collected dossier H29.12-251203-0042 at door 7');
    const load = { type: 'dossier.loading', actor: 'staff:mai', compartment: 3, dossier: 'H29.1', data: { phone: '09******78', size: 'S', compartmentSize: 'M' } };
    expect(eventSentence(load, 'vi')).toBe('Cán bộ mai đăng ký hồ sơ H29.1 và mở khóa ngăn 3 để nạp');
    expect(eventFields(load, 'vi')).toEqual([
      { key: 'phone', label: 'Số điện thoại', value: '09******78' },
      { key: 'size', label: 'Cỡ yêu cầu', value: 'S' },
      { key: 'compartmentSize', label: 'Cỡ ngăn', value: 'M' },
    ]);
  });

  it('leaves out the parts an event does not carry, and still reads an unknown type', () => {
    expect(eventSentence({ type: 'door.opened', actor: 'system', compartment: 4 }, 'vi')).toBe('Cửa ngăn 4 được mở');
    expect(eventSentence({ type: 'door.opened', actor: 'system', compartment: 4, dossier: 'A-1' }, 'en')).toBe('Door 4 was opened (dossier A-1)');
    expect(eventSentence({ type: 'pickup.failed', actor: 'citizen', data: { reason: 'no_match' } }, 'vi')).toBe('Công dân nhập sai mã nhận');
    expect(eventFields({ type: 'pickup.failed', actor: 'citizen', data: { reason: 'no_match' } }, 'en')).toEqual([{ key: 'reason', label: 'Reason', value: 'no dossier matched' }]);
    expect(eventSentence({ type: 'future.thing', actor: 'central', compartment: 2 }, 'en')).toBe('The central office: event future.thing, door 2');
  });

  it('labels every data field the server writes, in both languages', () => {
    // Keys of `data: { ... }` objects in the server's audit.append calls.
    const keys = new Set<string>();
    for (const file of sources(SERVER)) {
      const text = readFileSync(file, 'utf8');
      for (const call of text.matchAll(/audit\.append\(\{[\s\S]*?\}\);?\n/g)) {
        const data = /data:\s*(?:[^{]*?\?\s*)?\{([^}]*)\}/.exec(call[0]);
        if (!data) continue;
        for (const m of data[1].matchAll(/(?:^|[,{(])\s*([a-zA-Z]+)(?=\s*[:,}]|\s*$)/g)) keys.add(m[1]);
      }
    }
    expect(keys.size).toBeGreaterThan(20);
    for (const lang of ['vi', 'en'] as const) expect([...keys].filter((k) => !FIELD_LABELS[lang][k]).sort(), lang).toEqual([]);
  });
});
