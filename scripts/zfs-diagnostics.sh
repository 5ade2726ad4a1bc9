#!/usr/bin/env bash
# Prints what a hung or failing ZFS test run needs explained: is zfs-fuse alive and answering,
# which processes wait on it, and the space and mounts under the directory that holds the
# test pools. Never fails, never waits long.
tmp="${TMPDIR:-/tmp}"
echo "== zfs diagnostics ($(date -u +%FT%TZ))"
pid="$(cat /run/zfs-fuse.pid 2>/dev/null || true)"
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  echo "zfs-fuse: pid $pid, state $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null), threads $(ls "/proc/$pid/task" 2>/dev/null | wc -l)"
else
  echo "zfs-fuse: not running (pidfile: ${pid:-none})"
fi
echo "-- zpool list (10 s at most)"
timeout 10 zpool list 2>&1 | head -20 || echo "zpool list: no answer within 10 s (exit $?)"
echo "-- zfs/zpool/zferry processes (state, wait channel, age)"
ps -eo pid,ppid,stat,wchan:24,etimes,args 2>/dev/null | awk 'NR==1 || /zfs|zpool|zferry/' | grep -v awk | head -40
echo "-- processes in uninterruptible sleep"
ps -eo pid,stat,wchan:24,args 2>/dev/null | awk '$2 ~ /^D/' | head -20
echo "-- space and mounts where the pools live ($tmp)"
df -h "$tmp" 2>&1 | tail -n +1
findmnt -T "$tmp" 2>&1 | tail -n +1
echo "fuse mounts: $(grep -c " fuse" /proc/mounts 2>/dev/null || true)"
free -m 2>/dev/null | head -2
exit 0
