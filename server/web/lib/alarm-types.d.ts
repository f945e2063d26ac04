export declare const ALARM_TYPES: readonly string[];
export declare const DOOR_ALARM_TYPES: readonly string[];
export declare const ALARM_ACK_TYPE: 'alarm.acknowledged';
