export declare const CSV_COLUMNS: string[];
export declare const EXPORT_COLUMNS: string[];
export declare function matches(e: unknown, f: unknown): boolean;
export declare function checkLinks(events: { seq: number; prevHash: string; hash: string }[]): { ok: true; count: number } | { ok: false; at: number };
export declare function csvLine(values: unknown[]): string;
export declare function toCsv(events: unknown[]): string;
