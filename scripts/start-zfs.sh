#!/usr/bin/env bash
# Start the zfs-fuse daemon unless `zpool list` already answers.
# zfs-fuse refuses to start (silently) while its pidfile exists, even a stale one, and logs
# only to syslog, so check every step and say what went wrong.
set -euo pipefail

PIDFILE=/run/zfs-fuse.pid

if zpool list >/dev/null 2>&1; then
  exit 0
fi

if ! command -v zfs-fuse >/dev/null 2>&1; then
  echo "start-zfs: zfs-fuse is not installed (apt-get install zfs-fuse)" >&2
  exit 1
fi

if [ -f "$PIDFILE" ]; then
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    # A daemon exists but does not answer: give it a moment, then replace it.
    for _ in $(seq 1 20); do zpool list >/dev/null 2>&1 && exit 0; sleep 0.25; done
    echo "start-zfs: zfs-fuse (pid $pid) does not answer; restarting it" >&2
    kill "$pid" 2>/dev/null || true
    sleep 1
    kill -9 "$pid" 2>/dev/null || true
  else
    echo "start-zfs: removing stale pidfile $PIDFILE" >&2
  fi
  rm -f "$PIDFILE"
fi

# A crashed daemon leaves its socket and FUSE mounts behind.
rm -f /run/zfs/zfs_socket /var/run/zfs/zfs_socket 2>/dev/null || true
{ grep ' fuse' /proc/mounts 2>/dev/null || true; } | awk '{print $2}' | while read -r mnt; do
  if ! stat "$mnt" >/dev/null 2>&1; then umount -l "$mnt" 2>/dev/null || true; fi
done

mkdir -p /run/zfs /var/lock
# zfs-fuse daemonizes with stdin/stdout/stderr on /dev/null but keeps every other descriptor it
# inherits: started from a CI runner, it would hold the runner's pipes open long after the run
# ends, and the runner would wait for them. Start it in its own session with only 0-2.
(
  for fd in /proc/self/fd/*; do
    fd="${fd##*/}"
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec ${fd}>&-" 2>/dev/null || true; fi
  done
  exec setsid zfs-fuse --no-kstat-mount -p "$PIDFILE" </dev/null >/dev/null 2>&1
)

for _ in $(seq 1 60); do
  if zpool list >/dev/null 2>&1; then exit 0; fi
  sleep 0.25
done
echo "start-zfs: zfs-fuse started but 'zpool list' does not answer after 15 s" >&2
zpool list >&2 || true
exit 1
