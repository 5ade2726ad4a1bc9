#!/usr/bin/env bash
# Proves ZFS works end to end before the suite relies on it: a throwaway file-backed pool where
# the tests put theirs, a filesystem written, snapshotted, sent and received, then destroyed,
# every command under a time limit. A zfs-fuse that answers `zpool list` but hangs on real work
# is restarted once; if it still fails, say what is wrong and stop (exit 1).
set -uo pipefail
cd "$(dirname "$0")/.."
tmp="${TMPDIR:-/tmp}"
LIMIT=60

attempt() {
  local name="zfsmoke$$x$RANDOM" dir
  dir="$(mktemp -d "$tmp/zferry-smoke-XXXXXX")" || return 1
  truncate -s 96M "$dir/vdev" || return 1
  local ok=0
  {
    timeout $LIMIT zpool create -o cachefile=none -O atime=off -m "$dir/mnt" "$name" "$dir/vdev" &&
      timeout $LIMIT zfs create "$name/a" &&
      timeout $LIMIT dd if=/dev/urandom of="$dir/mnt/a/data" bs=1M count=8 status=none &&
      timeout $LIMIT zfs snapshot "$name/a@s1" &&
      timeout $LIMIT bash -c "zfs send '$name/a@s1' | zfs recv -u '$name/b'" &&
      [ "$(timeout $LIMIT zfs get -H -o value guid "$name/a@s1")" = "$(timeout $LIMIT zfs get -H -o value guid "$name/b@s1")" ]
  } || ok=1
  timeout $LIMIT zpool destroy -f "$name" >/dev/null 2>&1 || { [ $ok -eq 0 ] && ok=1; }
  rm -rf "$dir"
  return $ok
}

if attempt; then exit 0; fi
echo "zfs-smoke: ZFS failed a send/receive round trip; restarting zfs-fuse" >&2
./scripts/zfs-diagnostics.sh >&2
pid="$(cat /run/zfs-fuse.pid 2>/dev/null || true)"
if [ -n "$pid" ]; then
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
fi
./scripts/start-zfs.sh || exit 1
if attempt; then
  echo "zfs-smoke: ZFS works after the restart" >&2
  exit 0
fi
echo "zfs-smoke: ZFS still fails a send/receive round trip after a restart" >&2
./scripts/zfs-diagnostics.sh >&2
exit 1
