#!/usr/bin/env bash
# Make this machine able to build zferry and run it against real ZFS:
# npm dependencies, zfs-fuse (through apt when no `zfs` is found), openssh-server for the SSH
# tests, and a running zfs-fuse daemon. Safe to run repeatedly; does nothing that is done already.
# --bench: also what the replication benchmark compares against or uses (syncoid from the
# sanoid package, with the pv and mbuffer it pipes through).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=false
[ "${1:-}" = "--bench" ] && bench=true

need_apt=()
command -v zfs >/dev/null 2>&1 || need_apt+=(zfs-fuse)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need_apt+=(openssh-client)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if $bench; then
  command -v syncoid >/dev/null 2>&1 || need_apt+=(sanoid)
  command -v pv >/dev/null 2>&1 || need_apt+=(pv)
  command -v mbuffer >/dev/null 2>&1 || need_apt+=(mbuffer)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-env: need root to install: ${need_apt[*]}" >&2
    exit 1
  fi
  echo "ensure-env: installing ${need_apt[*]} (apt)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
fi

# Install when node_modules is missing or older than the lockfile, exactly as the lockfile says.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-env: installing npm dependencies" >&2
  npm ci --no-audit --no-fund >&2
fi

if command -v zfs-fuse >/dev/null 2>&1; then
  ./scripts/start-zfs.sh
fi
if ! zpool list >/dev/null 2>&1; then
  echo "ensure-env: ZFS does not answer ('zpool list' failed)" >&2
  zpool list >&2 || true
  exit 1
fi
# Answering `zpool list` is not enough: prove a pool can be made, written, sent and received.
./scripts/zfs-smoke.sh
