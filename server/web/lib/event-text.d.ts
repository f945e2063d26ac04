export interface EventLike {
  type: string;
  actor: string;
  compartment?: number;
  dossier?: string;
  data?: Record<string, unknown>;
}
export declare const EVENT_TYPES: readonly string[];
export declare const EVENT_SENTENCES: Record<'vi' | 'en', Record<string, [string, string]>>;
export declare const FIELD_LABELS: Record<'vi' | 'en', Record<string, string>>;
export declare const VALUE_WORDS: Record<'vi' | 'en', Record<string, string>>;
export declare function actorText(actor: string, lang: string): string;
export declare function typeLabel(type: string, lang: string): string;
export declare function valueText(key: string, value: unknown, lang: string): string;
export declare function eventSentence(e: EventLike, lang: string): string;
export declare function eventFields(e: EventLike, lang: string): { key: string; label: string; value: string }[];
