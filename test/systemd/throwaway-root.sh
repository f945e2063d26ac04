#!/usr/bin/env bash
# A throwaway copy of this machine's root for the install script's real run: a private mount
# namespace holding a copy-on-write overlay of / (changes land in RAM and vanish with it),
# with /dev, /proc and /sys bound in and a snapshot of the repository's files (tracked and
# new, as a release tarball would hold them: no .git, no node_modules) at /src.
# Prints "ready <dir>" and stays until killed; run commands inside with
#   nsenter -t <pid> -m -- chroot <dir>/root <command>
# Needs root with CAP_SYS_ADMIN (unshare, mount); says "unavailable: <why>" and exits 3 otherwise.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" != --inside ]; then
  if ! unshare --mount --propagation private true 2>/dev/null; then echo "unavailable: cannot unshare a mount namespace here"; exit 3; fi
  exec unshare --mount --propagation private "$0" --inside "$(mktemp -d /tmp/locker-root-XXXXXX)"
fi
dir=$2
mount -t tmpfs -o size=4g tmpfs "$dir"
mkdir -p "$dir/upper" "$dir/work" "$dir/root"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$dir/root" 2>/dev/null; then
  echo "unavailable: overlayfs over / cannot be mounted here"
  exit 3
fi
for d in dev proc sys; do mount --rbind "/$d" "$dir/root/$d"; done
mount -t tmpfs tmpfs "$dir/root/tmp"
mount -t tmpfs tmpfs "$dir/root/run"
mkdir -p "$dir/root/src"
(cd "$repo" && git ls-files --cached --others --exclude-standard | while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done | tar -cf - -T -) | tar -xf - -C "$dir/root/src"
echo "ready $dir"
# Gone with its last process: an hour at most, even if whoever started it forgets it.
sleep 3600 &
sleeper=$!
trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM INT
wait "$sleeper"
