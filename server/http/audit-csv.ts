// The trail as CSV, produced a chunk of rows at a time as the reader takes them: memory stays
// that of one chunk whatever the trail's length.
import type { AuditEvent } from '../domain/audit-event.ts';
import { eventSentence } from '../web/lib/event-text.js';
import { localDateTime } from '../web/lib/local-time.js';
import { csvLine, EXPORT_COLUMNS } from '../web/lib/trail.js';

/** RFC 4180 with CRLF line ends and a BOM (spreadsheets then read UTF-8 right), one string per chunk. */
export async function* auditCsv(chunks: Iterable<AuditEvent[]>, timeZone: string, lang: string): AsyncGenerator<string> {
  yield `\uFEFF${EXPORT_COLUMNS.join(',')}\r\n`;
  for (const events of chunks) {
    let out = '';
    for (const e of events) {
      out += `${csvLine([e.seq, e.id, e.at, localDateTime(e.at, timeZone), timeZone, e.type, eventSentence(e, lang), e.actor, e.compartment, e.dossier, e.data, e.prevHash, e.hash])}\r\n`;
    }
    yield out;
  }
}
