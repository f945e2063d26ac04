// Common gateway styles, expressed as a URL/method/headers/body template for HttpSmsChannel:
//   json  POST {"to": ..., "text": ...} with the API key in a header
//   form  POST to=...&text=... (application/x-www-form-urlencoded), key in a header
//   get   GET <url>?to=...&text=..., key in a header
// Field names can be renamed (LOCKER_SMS_HTTP_FIELDS) and constant fields added (LOCKER_SMS_HTTP_EXTRA),
// e.g. a brand name; naming a `key` field sends the API key as a parameter instead of a header;
// naming a `unicode` field (e.g. {"unicode":"IsUnicode"}) sends 1 for a UCS-2 text, 0 for GSM-7.
import type { HttpSmsConfig } from '../config/schema.ts';

export const HTTP_PRESETS = ['template', 'json', 'form', 'get'] as const;
export type HttpPreset = (typeof HTTP_PRESETS)[number];
export const PHONE_FORMATS = ['local', '84', '+84'] as const;
export type PhoneFormat = (typeof PHONE_FORMATS)[number];

export interface PresetFields {
  to: string;
  text: string;
  id?: string;
  key?: string;
  unicode?: string;
}

export interface PresetInput {
  preset: Exclude<HttpPreset, 'template'>;
  url: string;
  apiKey: string | null;
  apiKeyHeader: string;
  fields: PresetFields;
  extra: Record<string, string | number | boolean>;
  phone: PhoneFormat;
}

const PHONE_PLACEHOLDER: Record<PhoneFormat, string> = { local: 'to', '84': 'msisdn', '+84': 'to84' };

export function presetConfig(p: PresetInput): Pick<HttpSmsConfig, 'url' | 'method' | 'headers' | 'bodyTemplate'> {
  const phone = PHONE_PLACEHOLDER[p.phone];
  const headers: Record<string, string> = {};
  if (p.apiKey && !p.fields.key) headers[p.apiKeyHeader] = p.apiKey;

  if (p.preset === 'json') {
    const entries = [`${JSON.stringify(p.fields.to)}:{{${phone}}}`, `${JSON.stringify(p.fields.text)}:{{text}}`];
    if (p.fields.id) entries.push(`${JSON.stringify(p.fields.id)}:{{id}}`);
    if (p.fields.unicode) entries.push(`${JSON.stringify(p.fields.unicode)}:{{unicode}}`);
    if (p.fields.key && p.apiKey) entries.push(`${JSON.stringify(p.fields.key)}:${JSON.stringify(p.apiKey)}`);
    for (const [k, v] of Object.entries(p.extra)) entries.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    headers['content-type'] = 'application/json; charset=utf-8';
    return { url: p.url, method: 'POST', headers, bodyTemplate: `{${entries.join(',')}}` };
  }

  const pairs = [`${encodeURIComponent(p.fields.to)}={{${phone}:url}}`, `${encodeURIComponent(p.fields.text)}={{text:url}}`];
  if (p.fields.id) pairs.push(`${encodeURIComponent(p.fields.id)}={{id:url}}`);
  if (p.fields.unicode) pairs.push(`${encodeURIComponent(p.fields.unicode)}={{unicode:url}}`);
  if (p.fields.key && p.apiKey) pairs.push(`${encodeURIComponent(p.fields.key)}=${encodeURIComponent(p.apiKey)}`);
  for (const [k, v] of Object.entries(p.extra)) pairs.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  const query = pairs.join('&');
  if (p.preset === 'form') {
    headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
    return { url: p.url, method: 'POST', headers, bodyTemplate: query };
  }
  return { url: `${p.url}${p.url.includes('?') ? '&' : '?'}${query}`, method: 'GET', headers, bodyTemplate: '' };
}
