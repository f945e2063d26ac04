// Every audit event type the locker writes, and how a person reads it: a short name (for the
// type filter) and a sentence, in Vietnamese and English, plus labels for the fields in an
// event's `data`. One table, used by the auditor view and by the server's CSV export.
//
// Sentence templates: {actor}, {dossier}, {compartment} are the event's own fields; {d.key} is
// `data.key`. A part in [square brackets] is left out when a value inside it is missing.

/** Every event type written anywhere in the locker (a test checks the source against this list). */
export const EVENT_TYPES = Object.freeze([
  'dossier.loading', 'dossier.ready', 'dossier.code_reissued', 'dossier.expired', 'dossier.withdrawn', 'dossier.cancelled',
  'dossier.loading_stale', 'dossier.data_purged', 'dossier.lookup', 'dossier.phone_corrected', 'dossier.phone_revealed',
  'dossier.revived', 'dossier.extended',
  'sms.sent', 'sms.failed', 'sms.delivered', 'sms.modem_lost', 'sms.modem_restored',
  'pickup.failed', 'pickup.succeeded', 'pickup.throttled', 'pickup.reverted',
  'door.unlocked', 'door.opened', 'door.closed', 'door.forced_open', 'door.ajar', 'door.jammed', 'door.sensor_fault',
  'door.unlock_failed', 'door.unlock_refused', 'door.unlock_retried', 'door.unlock_ended', 'door.test_pulse', 'door.sensor_recovered',
  'board.lost', 'board.recovered',
  'compartment.disabled', 'compartment.enabled', 'compartment.released',
  'login.succeeded', 'login.failed', 'login.refused',
  'user.created', 'user.disabled', 'user.enabled', 'user.password_changed', 'user.unlocked',
  'alarm.acknowledged',
]);

/** type -> [short name, sentence], per language. */
export const EVENT_SENTENCES = {
  vi: {
    'dossier.loading': ['Đăng ký nạp hồ sơ', '{actor} đăng ký hồ sơ {dossier} và mở khóa ngăn {compartment} để nạp'],
    'dossier.ready': ['Hồ sơ sẵn sàng', '{actor} xác nhận đã nạp hồ sơ {dossier} vào ngăn {compartment}; hồ sơ sẵn sàng để nhận'],
    'dossier.code_reissued': ['Gửi lại mã nhận', '{actor} yêu cầu gửi mã nhận mới cho hồ sơ {dossier}'],
    'dossier.expired': ['Hồ sơ quá hạn', 'Hồ sơ {dossier} ở ngăn {compartment} đã quá hạn nhận'],
    'dossier.withdrawn': ['Rút hồ sơ', '{actor} rút hồ sơ {dossier} khỏi ngăn {compartment}'],
    'dossier.cancelled': ['Hủy hồ sơ', '{actor} hủy hồ sơ {dossier}[ ở ngăn {compartment}]'],
    'dossier.loading_stale': ['Nạp quá lâu', 'Hồ sơ {dossier} ở ngăn {compartment} đang nạp quá lâu mà chưa được xác nhận'],
    'dossier.data_purged': ['Xóa dữ liệu cá nhân', '{actor} xóa số điện thoại và mã băm của hồ sơ {dossier} khi hết thời hạn lưu'],
    'dossier.lookup': ['Tra cứu theo số điện thoại', '{actor} tra cứu hồ sơ theo số điện thoại {d.phone}'],
    'dossier.phone_corrected': ['Sửa số điện thoại', '{actor} sửa số điện thoại của hồ sơ {dossier}'],
    'dossier.phone_revealed': ['Xem số điện thoại', '{actor} xem số điện thoại đầy đủ của hồ sơ {dossier}'],
    'dossier.revived': ['Khôi phục hồ sơ quá hạn', '{actor} khôi phục hồ sơ quá hạn {dossier} và gia hạn nhận'],
    'dossier.extended': ['Gia hạn hồ sơ', '{actor} gia hạn nhận hồ sơ {dossier}'],
    'sms.sent': ['Đã gửi tin nhắn', '{actor} gửi tin nhắn[ cho hồ sơ {dossier}][ đến {d.to}]'],
    'sms.failed': ['Gửi tin nhắn thất bại', 'Không gửi được tin nhắn[ cho hồ sơ {dossier}][ đến {d.to}]'],
    'sms.delivered': ['Tin nhắn đã đến', 'Tin nhắn[ cho hồ sơ {dossier}] đã đến máy[ {d.to}]'],
    'sms.modem_lost': ['Mất kênh tin nhắn', 'Mất kết nối kênh gửi tin nhắn[ {d.channel}]'],
    'sms.modem_restored': ['Kênh tin nhắn hoạt động lại', 'Kênh gửi tin nhắn[ {d.channel}] hoạt động trở lại'],
    'pickup.failed': ['Nhập sai mã', '{actor} nhập sai mã nhận[ cho hồ sơ {dossier}]'],
    'pickup.succeeded': ['Nhận hồ sơ', '{actor} nhận hồ sơ {dossier} tại ngăn {compartment}'],
    'pickup.throttled': ['Tạm khóa nhập mã', 'Ki-ốt tạm khóa nhập mã[ {d.retryAfterSec} giây] sau nhiều lần nhập sai'],
    'pickup.reverted': ['Hủy lượt nhận', 'Lượt nhận hồ sơ {dossier} ở ngăn {compartment} được hoàn lại vì cửa không mở; mã cũ vẫn dùng được'],
    'door.unlocked': ['Mở khóa cửa', '{actor} mở khóa ngăn {compartment}[ (hồ sơ {dossier})]'],
    'door.opened': ['Cửa mở', 'Cửa ngăn {compartment} được mở[ (hồ sơ {dossier})]'],
    'door.closed': ['Cửa đóng', 'Cửa ngăn {compartment} đã đóng[ (hồ sơ {dossier})]'],
    'door.forced_open': ['Cửa bị mở trái phép', 'Cửa ngăn {compartment} bị mở khi chưa được mở khóa[ (hồ sơ {dossier})]'],
    'door.ajar': ['Cửa để mở', 'Cửa ngăn {compartment} bị để mở[ {d.openForSec} giây]'],
    'door.jammed': ['Cửa bị kẹt', 'Ngăn {compartment} bị kẹt: đã mở khóa nhưng cửa không mở'],
    'door.sensor_fault': ['Lỗi cảm biến cửa', 'Không đọc được cảm biến cửa ngăn {compartment}[ (bo khóa {d.board} không trả lời)]'],
    'door.sensor_recovered': ['Đọc lại được cửa', 'Bo khóa đã trả lời lại: cửa ngăn {compartment} hết lỗi'],
    'board.lost': ['Mất bo khóa', 'Bo khóa {d.board} (địa chỉ {d.address}) không trả lời: các ngăn của bo này tạm ngừng'],
    'board.recovered': ['Bo khóa hoạt động lại', 'Bo khóa {d.board} (địa chỉ {d.address}) trả lời lại[ sau {d.downSec} giây]'],
    'door.unlock_failed': ['Mở khóa thất bại', 'Không mở khóa được ngăn {compartment}'],
    'door.unlock_refused': ['Từ chối mở khóa', 'Không mở khóa ngăn {compartment} vì khóa đang kẹt'],
    'door.unlock_retried': ['Mở khóa lại', 'Cửa ngăn {compartment} chưa mở sau khi mở khóa; hệ thống mở khóa thêm một lần'],
    'door.unlock_ended': ['Hết lượt mở khóa', 'Lượt mở khóa ngăn {compartment} kết thúc[ ({d.reason})]'],
    'door.test_pulse': ['Thử khóa', 'Thử mở khóa ngăn {compartment} bằng công cụ kiểm tra phần cứng'],
    'compartment.disabled': ['Ngừng dùng ngăn', '{actor} ngừng sử dụng ngăn {compartment}'],
    'compartment.enabled': ['Dùng lại ngăn', '{actor} đưa ngăn {compartment} vào sử dụng lại'],
    'compartment.released': ['Giải phóng ngăn', '{actor} giải phóng ngăn {compartment}[ (hồ sơ {dossier})]'],
    'login.succeeded': ['Đăng nhập', '{actor} đăng nhập'],
    'login.failed': ['Đăng nhập sai', 'Đăng nhập thất bại[ với tài khoản {d.username}]'],
    'login.refused': ['Từ chối đăng nhập', 'Từ chối đăng nhập tài khoản {d.username} vì tài khoản đã ngừng sử dụng'],
    'user.created': ['Tạo tài khoản', '{actor} tạo tài khoản {d.username}[ ({d.role})]'],
    'user.disabled': ['Ngừng tài khoản', '{actor} ngừng tài khoản {d.username}'],
    'user.enabled': ['Mở lại tài khoản', '{actor} mở lại tài khoản {d.username}'],
    'user.password_changed': ['Đổi mật khẩu', '{actor} đổi mật khẩu tài khoản {d.username}'],
    'user.unlocked': ['Gỡ khóa đăng nhập', '{actor} gỡ khóa đăng nhập cho tài khoản {d.username}'],
    'alarm.acknowledged': ['Xử lý cảnh báo', '{actor} xác nhận đã xử lý cảnh báo số {d.alarmSeq}[: {d.alarmType}]'],
  },
  en: {
    'dossier.loading': ['Registered for loading', '{actor} registered dossier {dossier} and unlocked door {compartment} for loading'],
    'dossier.ready': ['Dossier ready', '{actor} confirmed dossier {dossier} loaded in door {compartment}; it is ready for collection'],
    'dossier.code_reissued': ['Code sent again', '{actor} asked for a new pickup code for dossier {dossier}'],
    'dossier.expired': ['Dossier expired', 'Dossier {dossier} in door {compartment} passed its collection deadline'],
    'dossier.withdrawn': ['Dossier withdrawn', '{actor} withdrew dossier {dossier} from door {compartment}'],
    'dossier.cancelled': ['Dossier cancelled', '{actor} cancelled dossier {dossier}[ in door {compartment}]'],
    'dossier.loading_stale': ['Loading too long', 'Dossier {dossier} in door {compartment} has been loading too long without confirmation'],
    'dossier.data_purged': ['Personal data erased', '{actor} erased the phone number and code hash of dossier {dossier} at the end of the retention period'],
    'dossier.lookup': ['Looked up by phone', '{actor} looked up dossiers by phone number {d.phone}'],
    'dossier.phone_corrected': ['Phone corrected', '{actor} corrected the phone number of dossier {dossier}'],
    'dossier.phone_revealed': ['Phone viewed', '{actor} viewed the full phone number of dossier {dossier}'],
    'dossier.revived': ['Expired dossier revived', '{actor} revived expired dossier {dossier} with a new deadline'],
    'dossier.extended': ['Deadline extended', '{actor} extended the collection deadline of dossier {dossier}'],
    'sms.sent': ['Message sent', '{actor} sent a message[ for dossier {dossier}][ to {d.to}]'],
    'sms.failed': ['Message failed', 'A message could not be sent[ for dossier {dossier}][ to {d.to}]'],
    'sms.delivered': ['Message delivered', 'A message[ for dossier {dossier}] reached the phone[ {d.to}]'],
    'sms.modem_lost': ['Messaging channel lost', 'The messaging channel[ {d.channel}] was lost'],
    'sms.modem_restored': ['Messaging channel back', 'The messaging channel[ {d.channel}] works again'],
    'pickup.failed': ['Wrong code', '{actor} entered a wrong pickup code[ for dossier {dossier}]'],
    'pickup.succeeded': ['Dossier collected', '{actor} collected dossier {dossier} at door {compartment}'],
    'pickup.throttled': ['Code entry paused', 'The kiosk paused code entry[ for {d.retryAfterSec} s] after repeated wrong codes'],
    'pickup.reverted': ['Pickup undone', 'The pickup of dossier {dossier} at door {compartment} was undone because the door did not open; the same code works again'],
    'door.unlocked': ['Door unlocked', '{actor} unlocked door {compartment}[ (dossier {dossier})]'],
    'door.opened': ['Door opened', 'Door {compartment} was opened[ (dossier {dossier})]'],
    'door.closed': ['Door shut', 'Door {compartment} was shut[ (dossier {dossier})]'],
    'door.forced_open': ['Door forced open', 'Door {compartment} was opened without an unlock[ (dossier {dossier})]'],
    'door.ajar': ['Door left open', 'Door {compartment} was left open[ for {d.openForSec} s]'],
    'door.jammed': ['Door jammed', 'Door {compartment} is jammed: it was unlocked but did not open'],
    'door.sensor_fault': ['Door sensor fault', 'The sensor of door {compartment} cannot be read[ (lock board {d.board} is not answering)]'],
    'door.sensor_recovered': ['Door readable again', 'Its lock board answers again: door {compartment} is out of fault'],
    'board.lost': ['Lock board lost', 'Lock board {d.board} (address {d.address}) is not answering: its compartments are out of use'],
    'board.recovered': ['Lock board back', 'Lock board {d.board} (address {d.address}) answers again[ after {d.downSec} s]'],
    'door.unlock_failed': ['Unlock failed', 'Door {compartment} could not be unlocked'],
    'door.unlock_refused': ['Unlock refused', 'Door {compartment} was not unlocked because its lock is jammed'],
    'door.unlock_retried': ['Unlock retried', 'Door {compartment} did not open after its unlock; the system unlocked it once more'],
    'door.unlock_ended': ['Unlock ended', 'The unlock of door {compartment} ended[ ({d.reason})]'],
    'door.test_pulse': ['Lock tested', 'Door {compartment} was pulsed by the hardware test tool'],
    'compartment.disabled': ['Door taken out of service', '{actor} took door {compartment} out of service'],
    'compartment.enabled': ['Door back in service', '{actor} put door {compartment} back in service'],
    'compartment.released': ['Compartment released', '{actor} released door {compartment}[ (dossier {dossier})]'],
    'login.succeeded': ['Login', '{actor} logged in'],
    'login.failed': ['Failed login', 'A login failed[ for account {d.username}]'],
    'login.refused': ['Login refused', 'A login to account {d.username} was refused: the account is disabled'],
    'user.created': ['Account created', '{actor} created account {d.username}[ ({d.role})]'],
    'user.disabled': ['Account disabled', '{actor} disabled account {d.username}'],
    'user.enabled': ['Account enabled', '{actor} enabled account {d.username} again'],
    'user.password_changed': ['Password changed', '{actor} changed the password of account {d.username}'],
    'user.unlocked': ['Login block lifted', '{actor} lifted the login block on account {d.username}'],
    'alarm.acknowledged': ['Alarm handled', '{actor} acknowledged alarm {d.alarmSeq}[: {d.alarmType}]'],
  },
};

/** Labels of the fields an event's `data` may carry. */
export const FIELD_LABELS = {
  vi: {
    phone: 'Số điện thoại', to: 'Đến', from: 'Từ', size: 'Cỡ yêu cầu', compartmentSize: 'Cỡ ngăn', expiresAt: 'Hạn nhận',
    previousExpiresAt: 'Hạn nhận cũ', reason: 'Lý do', by: 'Bởi', resends: 'Số lần gửi lại', consecutive: 'Lần sai liên tiếp',
    failures: 'Số lần sai', codeLocked: 'Mã bị khóa', lifetimeCapReached: 'Hết số lần thử', retryAfterSec: 'Chờ (giây)',
    channel: 'Kênh', kind: 'Loại tin', attempt: 'Lần gửi', attempts: 'Số lần thử', parts: 'Số phần', maybeSent: 'Có thể đã gửi',
    state: 'Trạng thái', released: 'Ngăn được giải phóng', atStartup: 'Lúc khởi động', seenAt: 'Ghi nhận lúc',
    openForSec: 'Mở trong (giây)', alarm: 'Lần cảnh báo', waitedSec: 'Đã chờ (giây)', requestedBy: 'Yêu cầu bởi',
    purpose: 'Mục đích', clearedFault: 'Lỗi được xóa', username: 'Tài khoản', role: 'Vai trò', unknownUser: 'Tài khoản không tồn tại',
    wasBlocked: 'Đang bị khóa', alarmSeq: 'Cảnh báo số', alarmType: 'Loại cảnh báo', note: 'Ghi chú', closedAt: 'Đóng hồ sơ lúc',
    retentionDays: 'Thời hạn lưu (ngày)', fields: 'Dữ liệu đã xóa', since: 'Từ lúc', minutes: 'Số phút', newCode: 'Gửi mã mới',
    found: 'Số hồ sơ tìm thấy', tool: 'Công cụ', user: 'Người dùng máy', dossierStatus: 'Trạng thái hồ sơ',
    board: 'Bo khóa', address: 'Địa chỉ', port: 'Cổng', compartments: 'Các ngăn', downSec: 'Mất kết nối (giây)', fault: 'Lỗi', door: 'Cửa',
  },
  en: {
    phone: 'Phone', to: 'To', from: 'From', size: 'Size asked', compartmentSize: 'Compartment size', expiresAt: 'Deadline',
    previousExpiresAt: 'Previous deadline', reason: 'Reason', by: 'By', resends: 'Resends', consecutive: 'Consecutive wrong codes',
    failures: 'Wrong codes', codeLocked: 'Code locked', lifetimeCapReached: 'No tries left', retryAfterSec: 'Wait (s)',
    channel: 'Channel', kind: 'Message', attempt: 'Attempt', attempts: 'Attempts', parts: 'Parts', maybeSent: 'May have been sent',
    state: 'State', released: 'Compartment released', atStartup: 'At start-up', seenAt: 'Seen at',
    openForSec: 'Open for (s)', alarm: 'Alarm number', waitedSec: 'Waited (s)', requestedBy: 'Requested by',
    purpose: 'Purpose', clearedFault: 'Fault cleared', username: 'Account', role: 'Role', unknownUser: 'Unknown account',
    wasBlocked: 'Was blocked', alarmSeq: 'Alarm seq', alarmType: 'Alarm type', note: 'Note', closedAt: 'Closed at',
    retentionDays: 'Retention (days)', fields: 'Data erased', since: 'Since', minutes: 'Minutes', newCode: 'New code sent',
    found: 'Dossiers found', tool: 'Tool', user: 'Computer user', dossierStatus: 'Dossier status',
    board: 'Lock board', address: 'Address', port: 'Port', compartments: 'Compartments', downSec: 'Down for (s)', fault: 'Fault', door: 'Door',
  },
};

/** Words for coded values in `data` (reasons, statuses, kinds, roles), per language. */
export const VALUE_WORDS = {
  vi: {
    true: 'có', false: 'không',
    wrong_code: 'sai mã', no_match: 'không có hồ sơ nào khớp', never_loaded: 'chưa từng nạp', restart: 'khởi động lại',
    door_fault: 'lỗi cửa', pulse_failed: 'không phát được xung mở khóa', stopping: 'tủ đang dừng', not_opened: 'cửa chưa mở',
    jammed: 'khóa kẹt', interrupted: 'bị gián đoạn', disabled: 'đã ngừng sử dụng', unlock_failed: 'mở khóa thất bại',
    loading: 'đang nạp', ready: 'sẵn sàng', picked_up: 'đã nhận', expired: 'quá hạn', withdrawn: 'đã rút', cancelled: 'đã hủy',
    pickup: 'nhận hồ sơ', withdraw: 'rút hồ sơ', repair: 'sửa chữa', release: 'giải phóng ngăn', staff: 'cán bộ', citizen: 'công dân',
    pickup_code: 'mã nhận', reminder: 'nhắc hạn', receipt: 'biên nhận', code_locked: 'mã bị khóa',
    auditor: 'kiểm toán viên', admin: 'quản trị viên', codeHash: 'mã băm', codeNonce: 'số dùng một lần',
    board: 'mất bo khóa', board_lost: 'bo khóa không trả lời', open: 'mở', closed: 'đóng',
  },
  en: {
    true: 'yes', false: 'no',
    wrong_code: 'wrong code', no_match: 'no dossier matched', never_loaded: 'never loaded', restart: 'restart',
    door_fault: 'door fault', pulse_failed: 'the lock pulse failed', stopping: 'the locker was stopping', not_opened: 'the door did not open',
    jammed: 'lock jammed', interrupted: 'interrupted', disabled: 'disabled', unlock_failed: 'unlock failed',
    loading: 'loading', ready: 'ready', picked_up: 'collected', expired: 'expired', withdrawn: 'withdrawn', cancelled: 'cancelled',
    pickup: 'pickup', withdraw: 'withdraw', repair: 'repair', release: 'release', staff: 'staff', citizen: 'citizen',
    pickup_code: 'pickup code', reminder: 'reminder', receipt: 'receipt', code_locked: 'code locked',
    auditor: 'auditor', admin: 'administrator', codeHash: 'code hash', codeNonce: 'code nonce',
    board: 'lock board lost', board_lost: 'the lock board is not answering', open: 'open', closed: 'closed',
  },
};

const ACTORS = {
  vi: { citizen: 'Công dân', system: 'Hệ thống', central: 'Văn phòng trung tâm', staff: 'Cán bộ {name}' },
  en: { citizen: 'A citizen', system: 'The system', central: 'The central office', staff: 'Staff member {name}' },
};

const langOf = (lang) => (lang === 'en' ? 'en' : 'vi');

/** `staff:mai` -> "Cán bộ mai"; other actors by name; an unknown one as written. */
export function actorText(actor, lang) {
  const a = ACTORS[langOf(lang)];
  if (typeof actor !== 'string') return '';
  if (actor.startsWith('staff:')) return a.staff.replace('{name}', actor.slice(6));
  return a[actor] ?? actor;
}

/** The short name of a type ("Nhận hồ sơ"); an unknown type as written. */
export function typeLabel(type, lang) {
  return EVENT_SENTENCES[langOf(lang)][type]?.[0] ?? type;
}

/** A value of `data` as a person reads it, in one language. */
export function valueText(key, value, lang) {
  const words = VALUE_WORDS[langOf(lang)];
  if (value === null || value === undefined) return '—';
  if (key === 'alarmType') return typeLabel(String(value), lang);
  if (key === 'requestedBy') return actorText(String(value), lang);
  if (Array.isArray(value)) return value.map((v) => valueText(key, v, lang)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  const s = String(value);
  return Object.prototype.hasOwnProperty.call(words, s) ? words[s] : s;
}

function fill(template, e, lang) {
  const value = (name) => {
    if (name === 'actor') return actorText(e.actor, lang);
    if (name === 'dossier') return e.dossier;
    if (name === 'compartment') return e.compartment;
    if (name.startsWith('d.')) {
      const key = name.slice(2);
      const v = e.data?.[key];
      return v === undefined || v === null ? undefined : valueText(key, v, lang);
    }
    return undefined;
  };
  const sub = (text, missing) =>
    text.replace(/\{([a-zA-Z.]+)\}/g, (_, name) => {
      const v = value(name);
      if (v === undefined || v === null || v === '') {
        missing.push(name);
        return '…';
      }
      return String(v);
    });
  // Optional parts first: each is kept only when all of its values are there.
  const withOptional = template.replace(/\[([^\]]*)\]/g, (_, part) => {
    const missing = [];
    const out = sub(part, missing);
    return missing.length ? '' : out;
  });
  const text = sub(withOptional, []);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The sentence for an event; an unknown type gets a plain one that still names what it knows. */
export function eventSentence(e, lang) {
  const entry = EVENT_SENTENCES[langOf(lang)][e.type];
  if (entry) return fill(entry[1], e, lang);
  const generic = langOf(lang) === 'en' ? '{actor}: event {type}[, door {compartment}][, dossier {dossier}]' : '{actor}: sự kiện {type}[, ngăn {compartment}][, hồ sơ {dossier}]';
  return fill(generic.replace('{type}', e.type), e, lang);
}

/** The event's `data` as labelled fields, in the order the event holds them. */
export function eventFields(e, lang) {
  const labels = FIELD_LABELS[langOf(lang)];
  return Object.entries(e.data ?? {}).map(([key, v]) => ({ key, label: labels[key] ?? key, value: valueText(key, v, lang) }));
}
