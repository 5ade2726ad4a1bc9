#!/usr/bin/env bash
# Quick start demo: builds zferry, makes two throwaway file-backed pools, and replicates a
# small dataset tree from one to the other with `zferry push` (initial, then incremental).
# Everything it creates is destroyed when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-env.sh
npm run --silent build

work="$(mktemp -d -t zferry-demo.XXXXXX)"
src="zfdemo_src_$$"
dst="zfdemo_dst_$$"
cleanup() {
  for pool in "$src" "$dst"; do
    if zpool list "$pool" >/dev/null 2>&1; then
      for _ in 1 2 3 4 5; do zpool destroy -f "$pool" 2>/dev/null && break; sleep 0.5; done
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
zferry() { node dist/zferry.js "$@"; }

say "creating throwaway pools $src and $dst (file-backed, in $work)"
for pool in "$src" "$dst"; do
  truncate -s 256M "$work/$pool.img"
  zpool create -o cachefile=none -O atime=off -m "$work/mnt/$pool" "$pool" "$work/$pool.img"
done

say "a dataset tree with files and three snapshots"
zfs create "$src/data"
zfs create "$src/data/photos"
for i in 1 2 3; do
  head -c $((2 * 1024 * 1024)) /dev/urandom > "$work/mnt/$src/data/file$i.bin"
  head -c $((1024 * 1024)) /dev/urandom > "$work/mnt/$src/data/photos/img$i.bin"
  zfs snapshot -r "$src/data@snap$i"
done
zfs list -r -t snapshot -o name "$src"

say "zferry push -r $src/data $dst/data   (initial replication)"
zferry push -r "$src/data" "$dst/data"

say "one more snapshot, taken by zferry itself, sent incrementally"
head -c $((1024 * 1024)) /dev/urandom > "$work/mnt/$src/data/file4.bin"
zferry push -r --snapshot "$src/data" "$dst/data"

say "the target now holds"
zfs list -r -t snapshot -o name "$dst"

say "same again: nothing to do"
zferry push -r "$src/data" "$dst/data"

cat <<TXT

Over SSH the same job is:   zferry push -r tank/data backup@host:pool/data
(the remote runs 'zferry serve --stdio' through ssh; see README.md)
TXT
