#!/usr/bin/env bash
# Turns a fresh Raspberry Pi OS (bookworm or trixie, 64-bit) into a running locker, and takes
# it off again. Idempotent: run it again (after `git pull`, or from a new release's folder)
# and it changes only what differs; a second run with nothing new says so and changes nothing.
#
#   sudo systemd/install.sh                 install or update the locker (+ kiosk screen)
#   sudo systemd/install.sh --dry-run       print the planned actions, change nothing
#   sudo systemd/install.sh --uninstall     remove the service and the code; keep data + config
#   sudo systemd/install.sh --uninstall --purge    ... and the data, config and users too
#
# Every change goes through act(): with --dry-run it prints one `plan: <verb> <what>` line
# instead (test/systemd/install.test.ts reads them). --root DIR works on a mounted image or
# a throwaway tree instead of /: users go into DIR/etc/passwd, units are enabled offline, and
# nothing is started or installed with apt.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: install.sh [options]
  --dry-run            print the planned actions (plan: ...), change nothing
  --role locker|central
                       locker (default): the locker service, its kiosk screen, the CLI;
                       central: the central audit service (office server)
  --doors sim|onoff|gpiod|serial
                       door driver written to /etc/locker/locker.env on first install
                       (default gpiod), or changed in it when given later
  --no-kiosk           no kiosk screen (a locker without a touchscreen)
  --no-start           install and enable, but do not (re)start anything
  --uninstall          stop and remove the services and the code; keep data and config
  --purge              with --uninstall: also remove data, config, users
  --root DIR           operate on the filesystem tree at DIR instead of /
  -h, --help           this text
EOF
}

DRY_RUN=0
ROLE=locker
DOORS=
KIOSK=1
START=1
UNINSTALL=0
PURGE=0
ROOT=
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --role) ROLE=${2:-}; shift ;;
    --role=*) ROLE=${1#*=} ;;
    --doors) DOORS=${2:-}; shift ;;
    --doors=*) DOORS=${1#*=} ;;
    --no-kiosk) KIOSK=0 ;;
    --no-start) START=0 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    --root) ROOT=${2:-}; shift ;;
    --root=*) ROOT=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case "$ROLE" in locker | central) ;; *) echo "install.sh: --role is locker or central" >&2; exit 2 ;; esac
case "$DOORS" in '' | sim | onoff | gpiod | serial) ;; *) echo "install.sh: --doors is sim, onoff, gpiod or serial" >&2; exit 2 ;; esac
[ "$PURGE" = 1 ] && [ "$UNINSTALL" = 0 ] && { echo "install.sh: --purge goes with --uninstall" >&2; exit 2; }
[ "$ROLE" = central ] && KIOSK=0
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || { echo "install.sh: --root $ROOT is not a directory" >&2; exit 2; }
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" = / ] && ROOT=
fi
if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run it as root (sudo), or with --dry-run to see what it would do" >&2
  exit 1
fi

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
UNITS="$SRC/systemd"
PREFIX=/opt/locker
CONF=/etc/locker
UNITDIR=/etc/systemd/system
if [ "$ROLE" = locker ]; then SVC_USER=locker; DATA=/var/lib/locker; else SVC_USER=locker-central; DATA=/var/lib/locker-central; fi
KIOSK_USER=locker-kiosk
MIN_NODE=20.19

CHANGED=0          # anything done (or planned) at all
RELOAD=0           # unit files changed: daemon-reload
RESTART=0          # code, config or units changed: restart the service
BOOTED=0           # systemd runs this system, so units can be started
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then BOOTED=1; fi
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

say() { printf 'install: %s\n' "$*"; }
warn() { printf 'install: WARNING: %s\n' "$*" >&2; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }
# act "<verb> <what>" cmd...: the one place where the system is changed.
act() {
  local what=$1
  shift
  CHANGED=1
  if [ "$DRY_RUN" = 1 ]; then
    printf 'plan: %s\n' "$what"
  else
    say "$what"
    # Checked here, not left to `set -e`, which bash ignores inside `if f; then`.
    "$@" || die "failed: $what"
  fi
}
r() { printf '%s%s' "$ROOT" "$1"; }

# --- what is there now (read-only) ---
has_user() { grep -q "^$1:" "$(r /etc/passwd)" 2>/dev/null; }
has_group() { grep -q "^$1:" "$(r /etc/group)" 2>/dev/null; }
user_groups() { awk -F: -v u="$1" '{ n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) print $1 }' "$(r /etc/group)"; }
uid_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$(r /etc/passwd)"; }
gid_of() { awk -F: -v g="$1" '$1 == g { print $3 }' "$(r /etc/group)"; }
# "mode owner:group" of a path, names taken from the target's own passwd/group.
stat_of() {
  local s
  s=$(stat -c '%a %u %g' "$1" 2>/dev/null) || return 0
  set -- $s
  printf '%s %s:%s' "$1" "$(awk -F: -v i="$2" '$3 == i { print $1; exit }' "$(r /etc/passwd)")" "$(awk -F: -v i="$3" '$3 == i { print $1; exit }' "$(r /etc/group)")"
}
owner_ids() { # user:group -> uid:gid (numeric, so --root never falls back on the host's names)
  local u=${1%%:*} g=${1#*:}
  printf '%s:%s' "$(uid_of "$u")" "$(gid_of "$g")"
}
pkg_installed() { [ -z "$ROOT" ] && dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
unit_enabled() { # unit target (the link may point at an absolute path inside --root)
  [ -e "$(r "$UNITDIR/$2.wants/$1")" ] || [ -L "$(r "$UNITDIR/$2.wants/$1")" ]
}
os_codename() { sed -n 's/^VERSION_CODENAME=//p' "$(r /etc/os-release)" 2>/dev/null | tr -d '"'; }

# --- changes ---
ensure_dir() { # path mode owner
  local now
  if [ ! -d "$(r "$1")" ]; then
    act "mkdir $1 mode=$2 owner=$3" do_dir "$@"
    return
  fi
  now=$(stat_of "$(r "$1")")
  if [ "$now" != "$2 $3" ]; then act "chmod $1 mode=$2 owner=$3 (was ${now:-unknown})" do_dir "$@"; fi
}
do_dir() { install -d -m "$2" -o "$(owner_ids "$3" | cut -d: -f1)" -g "$(owner_ids "$3" | cut -d: -f2)" "$(r "$1")"; }

# ensure_file source dest mode owner [reason]: dest gets source's content, mode and owner.
ensure_file() {
  local src=$1 dest=$2 mode=$3 owner=$4
  if [ -f "$(r "$dest")" ] && cmp -s "$src" "$(r "$dest")"; then
    if [ "$(stat_of "$(r "$dest")")" != "$mode $owner" ]; then act "chmod $dest mode=$mode owner=$owner" do_file "$@"; fi
    return 1
  fi
  act "write $dest mode=$mode owner=$owner" do_file "$@"
  return 0
}
do_file() {
  local ids
  ids=$(owner_ids "$4")
  install -D -m "$3" -o "${ids%%:*}" -g "${ids#*:}" "$1" "$(r "$2")"
}
# Config the technician owns: written once, never overwritten.
ensure_config() { # source dest mode owner
  if [ -e "$(r "$2")" ]; then
    if [ "$(stat_of "$(r "$2")")" != "$3 $4" ]; then act "chmod $2 mode=$3 owner=$4" do_chmod "$2" "$3" "$4"; fi
    return 0
  fi
  act "write $2 mode=$3 owner=$4 (first install; edit it, it is never overwritten)" do_file "$@"
}
do_chmod() {
  local ids
  ids=$(owner_ids "$3")
  chmod "$2" "$(r "$1")"
  chown "$ids" "$(r "$1")"
}
remove_path() { # path [why]
  if [ -e "$(r "$1")" ] || [ -L "$(r "$1")" ]; then act "remove $1${2:+ ($2)}" rm -rf -- "$(r "$1")"; fi
}
systemctl_() {
  if [ -n "$ROOT" ]; then systemctl --root="$ROOT" "$@"; else systemctl "$@"; fi
}

ensure_group() {
  has_group "$1" || act "groupadd $1" groupadd --system ${ROOT:+--root "$ROOT"} "$1"
}
ensure_user() { # name home groups(comma list, may be empty)
  local name=$1 home=$2 groups=$3 missing=() g
  for g in ${groups//,/ }; do ensure_group "$g"; done
  if ! has_user "$name"; then
    act "useradd $name home=$home groups=${groups:-none}" \
      useradd --system --user-group --home-dir "$home" --no-create-home --shell /usr/sbin/nologin \
      ${groups:+--groups "$groups"} ${ROOT:+--root "$ROOT"} "$name"
    return
  fi
  for g in ${groups//,/ }; do
    user_groups "$name" | grep -qx "$g" || missing+=("$g")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local list
    list=$(IFS=,; echo "${missing[*]}")
    act "usermod $name +groups=$list" usermod -a -G "$list" ${ROOT:+--root "$ROOT"} "$name"
  fi
}

env_value() { # file key -> value (last one wins, as in systemd)
  [ -r "$(r "$1")" ] || return 0
  sed -n "s/^$2=//p" "$(r "$1")" | tail -1 | sed 's/^"\(.*\)"$/\1/'
}

check_node() {
  local v
  if [ -n "$ROOT" ]; then
    [ -x "$(r /usr/bin/node)" ] || warn "no /usr/bin/node in $ROOT: install Node.js >= $MIN_NODE there before the first start"
    return 0
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(os_codename)" = trixie ] || [ "$(os_codename)" = forky ]; then
      act "apt-get install nodejs npm (Debian's Node.js 20.19+)" apt_install nodejs npm
      [ "$DRY_RUN" = 1 ] && return 0
    else
      die "Node.js >= $MIN_NODE with npm is needed and not installed. On bookworm, Debian's Node is 18: install Node 22 from NodeSource first (README, \"Install on a Raspberry Pi\", step 1), then run this again."
    fi
  fi
  v=$(node -p 'process.versions.node')
  node -e "const [a,b]=process.versions.node.split('.').map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)" ||
    die "Node.js $v is too old: >= $MIN_NODE is needed (README, \"Install on a Raspberry Pi\", step 1)"
  if [ "$(command -v node)" != /usr/bin/node ]; then
    NODE_BIN=$(command -v node)
  fi
}
NODE_BIN=/usr/bin/node

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}
ensure_packages() {
  local want=() p
  for p in "$@"; do pkg_installed "$p" || want+=("$p"); done
  [ ${#want[@]} -eq 0 ] && return 0
  if [ -n "$ROOT" ]; then
    say "not installing packages into --root $ROOT; the target needs: ${want[*]}"
    return 0
  fi
  act "apt-get install ${want[*]}" apt_install "${want[@]}"
}

# --- the app: one folder per release, /opt/locker/app points at the current one ---
# The release id is the version plus a hash of the files shipped, so the same source installs
# once, and an update lands beside the running release before the switch.
release_files() {
  (
    cd "$SRC"
    if [ -d .git ] && command -v git >/dev/null 2>&1; then
      git ls-files | while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done
    else
      find . -type f ! -path './node_modules/*' ! -path './.git/*' ! -path './data*' ! -path './test-results/*' | sed 's|^\./||'
    fi
  ) | grep -v -E '^(test/|\.ci/|test-results/|data/|data-central/|server/dist/)' | LC_ALL=C sort
}
release_id() {
  local version hash
  version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$SRC/package.json" | head -1)
  hash=$(cd "$SRC" && release_files | tar --no-recursion -cf - --mtime=@0 --owner=0 --group=0 --numeric-owner -T - | sha256sum | cut -c1-12)
  printf '%s-%s' "${version:-0}" "$hash"
}
do_release() { # id
  local dir stage
  dir=$(r "$PREFIX/releases/$1")
  stage=$(r "$PREFIX/releases/.$1.partial")
  rm -rf "$stage"
  mkdir -p "$stage"
  (cd "$SRC" && release_files | tar --no-recursion -cf - -T -) | tar -xf - -C "$stage"
  # Production dependencies only, exactly as locked. better-sqlite3 downloads a prebuilt
  # binary for the Pi where it can and compiles otherwise (g++, make, python3).
  (cd "$stage" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
  # The service runs the bundle (server/dist/main.js), built here from the release's sources.
  (cd "$stage" && npm run --silent build)
  chmod -R u=rwX,go=rX "$stage"
  touch "$stage/.complete"
  mv -T "$stage" "$dir"
}
do_link() { # target link
  ln -sfn "$1" "$(r "$2").new"
  mv -T "$(r "$2").new" "$(r "$2")"
}
do_backup() { # release file: the new release's CLI (an old one may predate `backup`)
  runuser -u "$SVC_USER" -- env LOCKER_DATA_DIR="$DATA" "$NODE_BIN" "$1/server/bin/locker.mjs" backup "$2"
}
prune_releases() { # keep the current and the previous one
  local cur prev d
  cur=$(readlink "$(r "$PREFIX/app")" 2>/dev/null || true)
  prev=$(readlink "$(r "$PREFIX/previous")" 2>/dev/null || true)
  for d in "$(r "$PREFIX/releases")"/*; do
    [ -d "$d" ] || continue
    case "$PREFIX/releases/$(basename "$d")" in "$cur" | "$prev") ;; *) remove_path "$PREFIX/releases/$(basename "$d")" "old release" ;; esac
  done
  for d in "$(r "$PREFIX/releases")"/.*.partial; do
    [ -d "$d" ] && remove_path "$PREFIX/releases/$(basename "$d")" "unfinished release"
  done
  return 0
}

install_app() {
  local id target cur
  id=$(release_id)
  target="$PREFIX/releases/$id"
  ensure_dir "$PREFIX" 755 root:root
  ensure_dir "$PREFIX/releases" 755 root:root
  if [ ! -f "$(r "$target/.complete")" ]; then
    act "release $id into $target (npm ci --omit=dev)" do_release "$id"
  fi
  cur=$(readlink "$(r "$PREFIX/app")" 2>/dev/null || true)
  if [ "$cur" != "$target" ]; then
    if [ -n "$cur" ]; then
      # The database is migrated forward by the new release at its first start: keep a copy
      # from before, made by the running release (SQLite online backup, safe while it runs).
      if [ -f "$(r "$DATA/locker.db")" ] && [ -z "$ROOT" ] && [ "$ROLE" = locker ]; then
        ensure_dir "$DATA/backups" 700 "$SVC_USER:$SVC_USER"
        act "backup $DATA/backups/before-$id.db" do_backup "$target" "$DATA/backups/before-$id.db"
      fi
      act "link $PREFIX/previous -> $cur" do_link "$cur" "$PREFIX/previous"
    fi
    act "link $PREFIX/app -> $target" do_link "$target" "$PREFIX/app"
    RESTART=1
  fi
  [ "$DRY_RUN" = 1 ] || prune_releases
}

install_unit() { # file in systemd/ -> /etc/systemd/system/<name>
  if ensure_file "$UNITS/$1" "$UNITDIR/$1" 644 root:root; then RELOAD=1; RESTART=1; fi
}

write_env_template() {
  local port=8080
  cat >"$TMPD/locker.env" <<EOF
# Settings of this locker, read by locker.service at start (systemctl restart locker after a
# change). Every variable is described in the README, "Configuration". Keep it KEY=value, one
# per line; it may hold secrets (MQTT password, SMS gateway key): root:locker, mode 0640.
LOCKER_ID=locker-1
LOCKER_PORT=$port
LOCKER_DOORS=${DOORS:-gpiod}
LOCKER_SMS=file
#LOCKER_SMS=modem
#LOCKER_SMS_DEVICE=/dev/ttyUSB2
#LOCKER_MQTT_URL=mqtts://broker.example.vn:8883
#LOCKER_LOG_LEVEL=info
EOF
}

# --- HTTPS: a local CA of this host, and a server certificate it signs ---
# Made once and kept: the office PCs trust the CA, so it must outlive re-installs and upgrades.
# Only a missing, expired or foreign server certificate is issued again, from the same CA.
TLS=$CONF/tls
tls_host() { # the target's own name, not the name of the machine running a --root install
  local h
  h=$(head -1 "$(r /etc/hostname)" 2>/dev/null | tr -d ' \t\r') || true
  printf '%s' "${h:-$(hostname)}"
}
tls_ips() { # addresses the office PCs reach it on; an image's are unknown from here
  local ips=127.0.0.1 ip
  if [ -z "$ROOT" ]; then
    for ip in $(hostname -I 2>/dev/null); do [ "$ip" = 127.0.0.1 ] || ips="$ips $ip"; done
  fi
  printf '%s' "$ips"
}
tls_openssl_conf() { # host ips -> $TMPD/tls.cnf
  local san="DNS:$1,DNS:$1.local" ip
  for ip in $2; do san="$san,IP:$ip"; done
  cat >"$TMPD/tls.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $1
[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $san
EOF
}
do_ca() { # host
  local d=$TMPD/ca
  mkdir -m 700 "$d"
  (umask 077 && openssl req -x509 -config "$TMPD/tls.cnf" -extensions ca_ext -newkey rsa:3072 -nodes -days 3650 \
    -subj "/CN=Locker CA $1" -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null)
  install -m 644 -o 0 -g 0 "$d/ca.crt" "$(r "$TLS/ca.crt.new")"
  install -m 600 -o 0 -g 0 "$d/ca.key" "$(r "$TLS/ca.key")"
  mv -T "$(r "$TLS/ca.crt.new")" "$(r "$TLS/ca.crt")"
}
do_server_cert() { # host
  local d=$TMPD/srv ids
  ids=$(owner_ids "root:$SVC_USER")
  mkdir -m 700 "$d"
  (umask 077 && openssl req -new -config "$TMPD/tls.cnf" -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null)
  openssl x509 -req -in "$d/server.csr" -CA "$(r "$TLS/ca.crt")" -CAkey "$(r "$TLS/ca.key")" -set_serial "0x$(openssl rand -hex 16)" \
    -days 825 -extfile "$TMPD/tls.cnf" -extensions server_ext -out "$d/server.crt" 2>/dev/null
  install -m 640 -o "${ids%%:*}" -g "${ids#*:}" "$d/server.key" "$(r "$TLS/server.key")"
  install -m 644 -o 0 -g 0 "$d/server.crt" "$(r "$TLS/server.crt")"
}
server_cert_ok() {
  [ -f "$(r "$TLS/server.crt")" ] && [ -f "$(r "$TLS/server.key")" ] &&
    openssl x509 -in "$(r "$TLS/server.crt")" -noout -checkend 86400 >/dev/null 2>&1 &&
    openssl verify -CAfile "$(r "$TLS/ca.crt")" "$(r "$TLS/server.crt")" >/dev/null 2>&1
}
ensure_tls() { # env file, variable prefix (LOCKER or CENTRAL)
  local env=$1 p=$2 cert host ips fp
  cert=$(env_value "$env" "${p}_TLS_CERT")
  # A certificate from elsewhere, already configured, is the technician's: left as it is.
  if [ -n "$cert" ] && [ "$cert" != "$TLS/server.crt" ]; then
    say "HTTPS with the configured ${p}_TLS_CERT=$cert (no local CA made)"
    return 0
  fi
  command -v openssl >/dev/null 2>&1 || die "openssl is needed to make the HTTPS certificate: apt-get install openssl"
  host=$(tls_host)
  ips=$(tls_ips)
  tls_openssl_conf "$host" "$ips"
  ensure_dir "$TLS" 750 "root:$SVC_USER"
  if [ ! -f "$(r "$TLS/ca.crt")" ] || [ ! -f "$(r "$TLS/ca.key")" ]; then
    act "make local CA $TLS/ca.crt (key ca.key mode=600 owner=root:root)" do_ca "$host"
    act "issue server certificate $TLS/server.crt for $host, $host.local, ${ips// /, } (key server.key mode=640 owner=root:$SVC_USER)" do_server_cert "$host"
    RESTART=1
  elif ! server_cert_ok; then
    act "issue server certificate $TLS/server.crt for $host, $host.local, ${ips// /, } from the existing CA (key server.key mode=640 owner=root:$SVC_USER)" do_server_cert "$host"
    RESTART=1
  else
    [ "$(stat_of "$(r "$TLS/ca.key")")" = "600 root:root" ] || act "chmod $TLS/ca.key mode=600 owner=root:root" do_chmod "$TLS/ca.key" 600 root:root
    [ "$(stat_of "$(r "$TLS/server.key")")" = "640 root:$SVC_USER" ] || act "chmod $TLS/server.key mode=640 owner=root:$SVC_USER" do_chmod "$TLS/server.key" 640 "root:$SVC_USER"
  fi
  if ! grep -q "^${p}_TLS_CERT=" "$(r "$env")" 2>/dev/null && ! grep -q "^${p}_TLS_KEY=" "$(r "$env")" 2>/dev/null; then
    act "set ${p}_TLS_CERT and ${p}_TLS_KEY in $env" \
      sh -c 'printf "%s_TLS_CERT=%s\n%s_TLS_KEY=%s\n" "$1" "$2" "$1" "$3" >>"$4"' - "$p" "$TLS/server.crt" "$TLS/server.key" "$(r "$env")"
    RESTART=1
  fi
  if [ -f "$(r "$TLS/ca.crt")" ]; then
    fp=$(openssl x509 -in "$(r "$TLS/ca.crt")" -noout -fingerprint -sha256 | sed 's/^[^=]*=//')
    say "HTTPS: trust $TLS/ca.crt on each office PC. Its SHA-256 fingerprint: $fp"
    say "  Windows: copy ca.crt over, check the fingerprint (certutil -dump ca.crt, line Cert Hash(sha256)), then double-click it,"
    say "  Install Certificate, Local Machine, \"Trusted Root Certification Authorities\"; or as administrator: certutil -addstore -f Root ca.crt"
  fi
}

install_locker() {
  local doors port kiosk_env
  ensure_user "$SVC_USER" "$DATA" gpio,dialout
  ensure_dir "$CONF" 750 "root:$SVC_USER"
  ensure_dir "$DATA" 700 "$SVC_USER:$SVC_USER"
  write_env_template
  ensure_config "$TMPD/locker.env" "$CONF/locker.env" 640 "root:$SVC_USER"
  ensure_config "$SRC/locker-map/example.json" "$CONF/locker-map.json" 640 "root:$SVC_USER"
  if [ -n "$DOORS" ] && [ -f "$(r "$CONF/locker.env")" ] && [ "$(env_value "$CONF/locker.env" LOCKER_DOORS)" != "$DOORS" ]; then
    act "set LOCKER_DOORS=$DOORS in $CONF/locker.env" sed -i "/^LOCKER_DOORS=/d;\$a LOCKER_DOORS=$DOORS" "$(r "$CONF/locker.env")"
    RESTART=1
  fi
  doors=${DOORS:-$(env_value "$CONF/locker.env" LOCKER_DOORS)}
  doors=${doors:-gpiod}
  ensure_tls "$CONF/locker.env" LOCKER

  install_app
  install_unit locker.service
  # Per-driver hardening: only the sysfs driver needs /sys writable.
  if [ "$doors" = onoff ]; then
    if ensure_file "$UNITS/drop-ins/doors-onoff.conf" "$UNITDIR/locker.service.d/doors-onoff.conf" 644 root:root; then RELOAD=1; RESTART=1; fi
  elif [ -e "$(r "$UNITDIR/locker.service.d/doors-onoff.conf")" ]; then
    remove_path "$UNITDIR/locker.service.d/doors-onoff.conf" "LOCKER_DOORS=$doors"
    RELOAD=1
    RESTART=1
  fi
  if [ "$NODE_BIN" != /usr/bin/node ]; then
    printf '# Written by install.sh: node is not in /usr/bin on this system.\n[Service]\nExecStart=\nExecStart=%s --max-semi-space-size=1 server/dist/main.js\n' "$NODE_BIN" >"$TMPD/node-path.conf"
    if ensure_file "$TMPD/node-path.conf" "$UNITDIR/locker.service.d/node-path.conf" 644 root:root; then RELOAD=1; RESTART=1; fi
  fi
  ensure_file "$UNITS/locker-cli" /usr/local/bin/locker 755 root:root || true
  if ensure_file "$UNITS/journald-locker.conf" /etc/systemd/journald.conf.d/locker.conf 644 root:root; then
    [ "$BOOTED" = 1 ] && act "systemctl restart systemd-journald" systemctl restart systemd-journald
  fi
  ensure_time_sync

  if [ "$KIOSK" = 1 ]; then
    ensure_user "$KIOSK_USER" /run/locker-kiosk video,render,input,audio
    ensure_file "$UNITS/pam-locker-kiosk" /etc/pam.d/locker-kiosk 644 root:root || true
    port=$(env_value "$CONF/locker.env" LOCKER_PORT)
    port=${port:-8080}
    # With HTTPS the screen uses the plain-HTTP listener that only this host can reach.
    if [ -n "$(env_value "$CONF/locker.env" LOCKER_TLS_CERT)" ]; then
      port=$(env_value "$CONF/locker.env" LOCKER_LOOPBACK_PORT)
      port=${port:-8081}
    fi
    kiosk_env="$TMPD/kiosk.env"
    {
      echo "# Written by install.sh from LOCKER_PORT (LOCKER_LOOPBACK_PORT with HTTPS); the kiosk screen shows this page."
      echo "LOCKER_KIOSK_URL=http://127.0.0.1:$port/"
      echo "LOCKER_KIOSK_BROWSER=$(kiosk_browser)"
    } >"$kiosk_env"
    if ensure_file "$kiosk_env" "$CONF/kiosk.env" 644 root:root; then RESTART=1; fi
    if ensure_file "$UNITS/locker-kiosk.service" "$UNITDIR/locker-kiosk.service" 644 root:root; then RELOAD=1; RESTART=1; fi
    keep_screen_awake
    # A desktop's display manager would hold the screen the kiosk needs.
    if [ -L "$(r "$UNITDIR/display-manager.service")" ]; then
      act "systemctl disable display-manager.service (the kiosk owns the screen)" systemctl_ disable display-manager.service
      act "systemctl set-default multi-user.target" systemctl_ set-default multi-user.target
    fi
  elif [ -e "$(r "$UNITDIR/locker-kiosk.service")" ]; then
    disable_unit locker-kiosk.service
    remove_path "$UNITDIR/locker-kiosk.service" "--no-kiosk"
    RELOAD=1
  fi
}

kiosk_browser() {
  local b
  for b in /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -x "$(r "$b")" ] && { echo "$b"; return; }
  done
  echo /usr/bin/chromium
}

keep_screen_awake() {
  # The text console blanks after 10 minutes by default, before Cage takes over or when it
  # restarts: off, on the kernel command line (takes effect at the next boot).
  local f
  for f in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
    [ -f "$(r "$f")" ] || continue
    grep -q 'consoleblank=' "$(r "$f")" || act "kernel command line: consoleblank=0 in $f (next boot)" sed -i '1 s/$/ consoleblank=0/' "$(r "$f")"
    return 0
  done
}

ensure_time_sync() {
  # Pickup codes expire by the clock, and a Pi has no battery clock unless one is fitted: an
  # NTP client must run. Keep chrony or ntpsec where installed, else systemd-timesyncd.
  local u
  for u in chrony.service ntpsec.service ntp.service openntpd.service; do
    unit_enabled "$u" multi-user.target && return 0
  done
  if [ -e "$(r /lib/systemd/system/systemd-timesyncd.service)" ] || [ -e "$(r /usr/lib/systemd/system/systemd-timesyncd.service)" ]; then
    if ! unit_enabled systemd-timesyncd.service sysinit.target; then
      if [ "$BOOTED" = 1 ]; then
        act "systemctl enable --now systemd-timesyncd.service (codes expire by the clock)" systemctl enable --now systemd-timesyncd.service
      else
        act "systemctl enable systemd-timesyncd.service (codes expire by the clock)" systemctl_ enable systemd-timesyncd.service
      fi
    fi
  else
    ensure_packages systemd-timesyncd
  fi
}

install_central() {
  ensure_user "$SVC_USER" "$DATA" ""
  ensure_dir "$CONF" 750 "root:$SVC_USER"
  ensure_dir "$DATA" 700 "$SVC_USER:$SVC_USER"
  cat >"$TMPD/central.env" <<'EOF'
# Settings of the central audit service (server/central/README.md). Required:
CENTRAL_MQTT_URL=
#CENTRAL_MQTT_BASE=locker
#CENTRAL_PORT=8090
#CENTRAL_DATABASE_URL=postgres://locker@localhost/locker_central
EOF
  ensure_config "$TMPD/central.env" "$CONF/central.env" 640 "root:$SVC_USER"
  ensure_tls "$CONF/central.env" CENTRAL
  install_app
  install_unit locker-central.service
  ensure_file "$UNITS/journald-locker.conf" /etc/systemd/journald.conf.d/locker.conf 644 root:root || true
}

disable_unit() {
  local u=$1 t
  for t in multi-user.target graphical.target; do
    if unit_enabled "$u" "$t"; then
      if [ "$BOOTED" = 1 ]; then act "systemctl disable --now $u" systemctl_ disable --now "$u"; else act "systemctl disable $u" systemctl_ disable "$u"; fi
      return
    fi
  done
  if [ "$BOOTED" = 1 ] && systemctl is-active --quiet "$u" 2>/dev/null; then act "systemctl stop $u" systemctl stop "$u"; fi
}

start_units() {
  local units=() u
  if [ "$ROLE" = locker ]; then
    units=(locker.service)
    [ "$KIOSK" = 1 ] && units+=(locker-kiosk.service)
  else
    units=(locker-central.service)
  fi
  if [ "$RELOAD" = 1 ] && [ "$BOOTED" = 1 ]; then act "systemctl daemon-reload" systemctl daemon-reload; fi
  for u in "${units[@]}"; do
    unit_enabled "$u" multi-user.target || act "systemctl enable $u" systemctl_ enable "$u"
  done
  if [ "$ROLE" = central ] && [ -z "$(env_value "$CONF/central.env" CENTRAL_MQTT_URL)" ]; then
    say "set CENTRAL_MQTT_URL in $CONF/central.env, then: systemctl restart locker-central"
    return 0
  fi
  if [ "$START" = 0 ]; then return 0; fi
  if [ "$BOOTED" = 0 ]; then
    say "not running under systemd here: units enabled, they start at the next boot"
    return 0
  fi
  for u in "${units[@]}"; do
    if [ "$RESTART" = 1 ]; then
      act "systemctl restart $u" systemctl restart "$u"
    elif ! systemctl is-active --quiet "$u"; then
      act "systemctl start $u" systemctl start "$u"
    fi
  done
  if [ "$DRY_RUN" = 0 ] && [ "$ROLE" = locker ]; then wait_healthy; fi
}

wait_healthy() {
  local port i
  port=$(env_value "$CONF/locker.env" LOCKER_PORT)
  port=${port:-8080}
  # With HTTPS, plain HTTP answers only on the kiosk's loopback listener.
  if [ -n "$(env_value "$CONF/locker.env" LOCKER_TLS_CERT)" ]; then
    port=$(env_value "$CONF/locker.env" LOCKER_LOOPBACK_PORT)
    port=${port:-8081}
  fi
  for i in $(seq 1 60); do
    if "$NODE_BIN" -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; then
      say "locker is up: http://127.0.0.1:$port/healthz answers"
      return 0
    fi
    sleep 2
  done
  warn "the locker does not answer on port $port yet: journalctl -u locker -n 50"
}

uninstall() {
  local u
  for u in locker-kiosk.service locker.service locker-central.service; do
    [ -e "$(r "$UNITDIR/$u")" ] || continue
    disable_unit "$u"
    remove_path "$UNITDIR/$u"
    RELOAD=1
  done
  remove_path "$UNITDIR/locker.service.d"
  remove_path /etc/pam.d/locker-kiosk
  remove_path /etc/systemd/journald.conf.d/locker.conf
  remove_path /usr/local/bin/locker
  remove_path "$PREFIX" "the code; data and config are elsewhere"
  if [ "$RELOAD" = 1 ] && [ "$BOOTED" = 1 ]; then act "systemctl daemon-reload" systemctl daemon-reload; fi
  if [ "$PURGE" = 1 ]; then
    remove_path /var/lib/locker "data: database, secrets, backups"
    remove_path /var/lib/locker-central "central data"
    remove_path /var/cache/locker
    remove_path /var/cache/locker-central
    remove_path "$CONF" "config"
    for u in "$KIOSK_USER" locker locker-central; do
      has_user "$u" && act "userdel $u" userdel ${ROOT:+--root "$ROOT"} "$u"
    done
  else
    for u in /var/lib/locker /var/lib/locker-central "$CONF"; do
      [ -e "$(r "$u")" ] && say "kept $u (remove it with --uninstall --purge)"
    done
  fi
  return 0
}

# --- main ---
if [ "$DRY_RUN" = 1 ]; then say "dry run: nothing is changed${ROOT:+ (root $ROOT)}"; fi
codename=$(os_codename)
case "$codename" in
  bookworm | trixie) ;;
  *) warn "made for Raspberry Pi OS bookworm or trixie; this is '${codename:-unknown}'" ;;
esac
if [ "$UNINSTALL" = 1 ]; then
  uninstall
else
  check_node
  if [ "$ROLE" = locker ]; then
    pkgs=(gpiod g++ make python3)
    # espeak-ng renders the kiosk's spoken prompts when the release is built (npm run build).
    [ "$KIOSK" = 1 ] && pkgs+=(cage "$(basename "$(kiosk_browser)")" espeak-ng)
    ensure_packages "${pkgs[@]}"
    install_locker
  else
    ensure_packages g++ make python3
    install_central
  fi
  start_units
fi
if [ "$CHANGED" = 0 ]; then say "nothing to change"; fi
