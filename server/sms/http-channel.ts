// A configurable HTTP(S) gateway. Placeholders in the URL and body template:
//   {{to}} / {{text}}          JSON string literals (for JSON bodies)
//   {{to:url}} / {{text:url}}  URL-encoded (for query strings and form bodies)
//   {{to:raw}} / {{text:raw}}  as they are
//   {{to84}}, {{to84:url}}, {{to84:raw}}  the number as +84xxxxxxxxx
//   {{msisdn}} (and :url, :raw)           the number as 84xxxxxxxxx
//   {{id}} (and :url, :raw)               a stable id per queued message (for gateways that deduplicate)
//   {{unicode}} (and :url, :raw)          1 when the text goes as UCS-2 (it has diacritics), 0 when GSM-7:
//                                         the same decision the modem's PDU encoder makes (encoding.ts)
// The presets (json, form, get) in http-presets.ts are written in these terms.
import type { HttpSmsConfig } from '../config/schema.ts';
import { internationalPhone } from '../domain/phone.ts';
import type { SmsMessage } from '../domain/ports.ts';
import type { ExtendedSmsChannel, SendContext } from './channel.ts';
import { chooseEncoding } from './encoding.ts';

export class SmsSendError extends Error {}

export function fillTemplate(template: string, message: SmsMessage, id = ''): string {
  const to84 = internationalPhone(message.to);
  const unicode = chooseEncoding(message.text) === 'ucs2' ? '1' : '0';
  const values: Record<string, string> = { to: message.to, to84, msisdn: to84.slice(1), text: message.text, id, unicode };
  return template.replace(/\{\{(to84|to|text|msisdn|id|unicode)(?::(url|raw))?\}\}/g, (_m, name: string, mode?: string) => {
    const v = values[name];
    if (mode === 'url') return encodeURIComponent(v);
    if (mode === 'raw') return v;
    // A JSON body gets the flag as a number, as gateways with an "IsUnicode"-style field expect.
    if (name === 'unicode') return v;
    return JSON.stringify(v);
  });
}

export class HttpSmsChannel implements ExtendedSmsChannel {
  readonly name = 'http';
  readonly reportsHandover = true;
  readonly idempotent: boolean;

  constructor(private readonly cfg: HttpSmsConfig) {
    this.idempotent = cfg.idempotent === true;
  }

  async send(message: SmsMessage, ctx?: SendContext): Promise<void> {
    const id = ctx?.id ?? '';
    const url = fillTemplate(this.cfg.url, message, id);
    const headers: Record<string, string> = { ...this.cfg.headers };
    let body: string | undefined;
    if (this.cfg.method !== 'GET') {
      body = fillTemplate(this.cfg.bodyTemplate, message, id);
      const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
      if (!hasType) headers['content-type'] = body.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded';
    }
    let res: Response;
    let text: string;
    // From here on the gateway may act on the request even if we never see its answer.
    ctx?.handover();
    try {
      res = await fetch(url, { method: this.cfg.method, headers, body, signal: AbortSignal.timeout(this.cfg.timeoutMs) });
      text = await res.text().catch(() => '');
    } catch (err) {
      // Never echo the URL: with a GET template it carries the phone number and the code.
      const name = (err as Error).name;
      throw new SmsSendError(name === 'TimeoutError' ? `gateway timed out after ${this.cfg.timeoutMs} ms` : `gateway unreachable (${name})`);
    }
    if (!res.ok) throw new SmsSendError(`gateway answered HTTP ${res.status}`);
    // Gateways that answer 200 with an error code in the body: the configured marker must be there.
    if (this.cfg.successMatch && !text.includes(this.cfg.successMatch)) {
      throw new SmsSendError(`gateway answered HTTP ${res.status} without the success marker`);
    }
  }
}
