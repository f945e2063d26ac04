export declare function isTimeZone(name: string): boolean;
export declare function localDateTime(iso: string, timeZone: string): string;
export declare function offsetMinutes(ms: number, timeZone: string): number;
export declare function offsetText(minutes: number): string;
export declare function localDayStart(date: string, timeZone: string): number | null;
