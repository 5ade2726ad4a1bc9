/**
 * Broken configuration files (test/fixtures/config/broken/*.yml), each answered with exactly
 * the problems listed here: FILE:LINE:COLUMN, the key path and the words, all of them, in file
 * order. Every fixture has an entry and every entry a fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, formatProblem } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';
import { repositoryRoot } from '../helpers/rpc-wire.js';

const FIXTURES = path.join(repositoryRoot(), 'test', 'fixtures', 'config', 'broken');

/** Fixture name → its problems as `LINE:COLUMN: path: message` (the file name is prepended). */
const EXPECTED: Record<string, string[]> = {
  'bad-client-identity': [
    `8:69: jobs[1].connect.client_identity: client identity contains "/" (letters, digits and _ - . : only: it becomes part of dataset names and hold tags)`,
  ],
  'bad-cron': [`7:11: jobs[0].cron: invalid cron expression "0 25 * * *": Invalid value for hour: 25`],
  'bad-filter-key': [
    `5:7: jobs[0].filesystems["tank/*"]: "tank/*" is not a filter: globs are not supported (write "pool/a<" for pool/a and everything below it)`,
  ],
  'bad-filter-value': [`5:16: jobs[0].filesystems["tank<"]: expected true or false, got a string ('yes')`],
  'bad-interval': [`7:15: jobs[0].interval: invalid duration "10 minutes": cannot read it; write it like 30s, 10m, 1h30m or 1d, or manual`],
  'dataset-leading-dash': [
    `5:14: jobs[0].root_fs: "-backup" is not a valid dataset name: it starts with "-" (a pool name starts with a letter; "-" would be read as an option)`,
  ],
  'dataset-snapshot-name': [
    `5:14: jobs[0].root_fs: "backup@today" is not a valid dataset name: it contains "@": that names a snapshot, a filesystem is expected`,
  ],
  'duplicate-job-name': [`6:11: jobs[1].name: job name 'home' is already used by jobs[0]: names must be unique (they tag the job's holds and cursors)`],
  'duplicate-listener': [`8:41: jobs[1].serve.listener_name: listener 'backups' is already served by sink job 'backups' (jobs[0])`],
  'duplicate-yaml-key': [`5:5: YAML syntax: the key "root_fs" appears twice in the same map`],
  empty: [`1:1: the file is empty: expected a map with 'jobs' (and optionally 'global')`],
  'global-values': [
    `4:14: global.logging[0].level: expected 'error', 'warn', 'info', 'debug' or 'trace', got a string ('warning')`,
    `5:14: global.state_dir: expected an absolute path (starting with /), got "var/lib/zferry"`,
    `8:5: global.control.mode: unknown key 'mode' (allowed here: sockpath)`,
  ],
  'hook-values': [
    `12:17: jobs[0].snapshotting.hooks[0].path: expected an absolute path (starting with /), got "bin/quiesce"`,
    `13:20: jobs[0].snapshotting.hooks[0].timeout: expected a duration like 10m, got a number (30): add a unit (30s, 30m, …)`,
    `14:17: jobs[0].snapshotting.hooks[0].when: expected a hook type or a list of them ('pre_snapshot' or 'post_snapshot'), got a string ('pre_replication')`,
    `15:17: jobs[0].snapshotting.hooks[1].type: unsupported: zrepl's hook type 'mysql-lock-tables' is not supported by zferry (lock and unlock from command hooks: pre_snapshot and post_snapshot)`,
    `19:25: jobs[0].snapshotting.hooks[2].err_is_fatal: expected true or false, got a string ('yes')`,
    `20:25: jobs[0].snapshotting.hooks[2].filesystems["tank/*"]: "tank/*" is not a filter: globs are not supported (write "pool/a<" for pool/a and everything below it)`,
    `22:9: jobs[0].hooks[0].path: missing 'path' (a command hook needs the absolute path of what it runs)`,
    `23:16: jobs[0].hooks[0].when[0]: expected 'pre_replication', 'post_replication' or 'on_late', got a string ('post_snapshot')`,
    `24:16: jobs[0].hooks[0].args[0]: expected an argument (a string: quote numbers), got a number (1)`,
    `25:9: jobs[0].hooks[0].cmd: unknown key 'cmd' (allowed here: type, path, args, timeout, err_is_fatal, filesystems, when)`,
    `34:5: jobs[2].hooks: unknown key 'hooks' for a snap job (push, pull jobs take it)`,
  ],
  'interval-and-cron': [`8:5: jobs[0].cron: 'cron' and 'interval' exclude each other: a job runs on one schedule (keep one)`],
  'interval-without-unit': [`7:15: jobs[0].interval: expected a duration like 10m, or manual, got a number (600): add a unit (600s, 600m, …)`],
  'job-not-a-map': [`2:5: jobs[0]: expected a job (a map with name, type and its settings), got a string ('push laptop to nas')`],
  'jobs-not-a-list': [`2:3: jobs: expected a list of jobs, got a map`],
  'key-of-another-job-type': [
    `6:5: jobs[0].filesystems: unknown key 'filesystems' for a sink job (push, pull, source, snap jobs take it)`,
    `7:5: jobs[0].interval: unknown key 'interval' for a sink job (push, pull jobs take it)`,
  ],
  'many-problems': [
    `4:14: global.logging[0].level: expected 'error', 'warn', 'info', 'debug' or 'trace', got a string ('loud')`,
    `6:5: jobs[0].root_fs: missing 'root_fs' (a sink needs the dataset it receives into)`,
    `11:43: jobs[1].connect.listener_name: unknown listener 'backupz': no sink job in this file serves it (did you mean 'backups'?)`,
    `12:28: jobs[1].filesystems["tank<"]: expected true or false, got a string ('maybe')`,
    `13:15: jobs[1].interval: invalid duration "5 minutes": cannot read it; write it like 30s, 10m, 1h30m or 1d, or manual`,
    `14:11: jobs[2].name: job name 'laptop' is already used by jobs[1]: names must be unique (they tag the job's holds and cursors)`,
    `17:26: jobs[2].snapshotting.type: expected 'manual', 'periodic' or 'cron', got a string ('hourly')`,
  ],
  'missing-job-type': [`2:5: jobs[0].type: missing 'type' (one of 'push', 'pull', 'sink', 'source' or 'snap')`],
  'one-to-one-two-roots': [
    `6:19: jobs[0].path_mapping: one_to_one maps a single filesystem tree onto root_fs, but filesystems has 2 roots (tank/home, tank/work); use nested, or one job per tree`,
  ],
  'overlapping-root-fs': [
    `9:14: jobs[1].root_fs: root_fs 'backup/nas' overlaps the root_fs 'backup' of sink job 'backups' (jobs[0]): two jobs would receive into the same tree`,
  ],
  'periodic-without-interval': [`5:5: jobs[0].snapshotting.interval: missing 'interval' (periodic snapshotting needs an interval like 10m)`],
  'policy-values': [
    `9:20: jobs[0].replication.concurrency: must be at least 1, got a number (0)`,
    `10:12: jobs[0].batch: expected true or false, got a string ('yes')`,
    `11:18: jobs[0].on_diverged: expected 'fail', 'rollback' or 'rename', got a string ('roll-back') (did you mean 'rollback'?)`,
    `13:28: jobs[0].conflict_resolution.initial_replication: expected 'all', 'most_recent' or 'fail', got a string ('latest')`,
  ],
  'pruning-rule-type': [
    `10:17: jobs[0].pruning.keep[1].type: expected 'grid', 'last_n', 'regex' or 'not_replicated', got a string ('lastn') (did you mean 'last_n'?)`,
    `12:11: jobs[0].pruning.keep[2].type: missing 'type' (one of 'grid', 'last_n', 'regex' or 'not_replicated')`,
  ],
  'pull-local-one-to-one': [
    `9:14: jobs[1].root_fs: 'tank/a/mirror' is selected by the filesystems of source job 'share' (jobs[0]): the job would replicate its own replicas`,
    `10:19: jobs[1].path_mapping: one_to_one maps a single filesystem tree onto root_fs, but the filesystems of source job 'share' (jobs[0]) has 2 roots (tank/a, tank/b); use nested, or one job per tree`,
  ],
  'pull-ssh-without-filesystems': [`2:5: jobs[0].filesystems: missing 'filesystems' (a pull over ssh must say which filesystems of the remote host it pulls)`],
  'pull-without-schedule': [`2:5: jobs[0].interval: missing 'interval' (a pull job needs a schedule: interval: 10m, interval: manual, or cron: '0 3 * * *')`],
  'push-local-with-root-fs': [
    `9:5: jobs[1].root_fs: a push over a local connect takes no root_fs: the sink job's root_fs decides where the filesystems land (remove it here)`,
  ],
  'push-selects-own-replicas': [
    `9:5: jobs[1].filesystems: selects the root_fs 'tank/backup' of sink job 'backups' (jobs[0]): the job would replicate its own replicas (exclude it with "tank/backup<": false)`,
  ],
  'push-to-source-listener': [`8:43: jobs[1].connect.listener_name: listener 'share' is served by source job 'share' (jobs[0]); a push job connects to a sink`],
  'renamed-from': [
    `4:30: jobs[0].renamed_from[1]: 'work' is the name of snap job 'work' (jobs[1]): renamed_from lists names no job has any more`,
    `9:19: jobs[1].renamed_from: 'home-old' is already in the renamed_from of snap job 'home' (jobs[0]): two jobs cannot take over the same cursors`,
  ],
  'rules-not-a-list': [`7:13: jobs[0].pruning.keep: expected a list of rules, got a string ('last_n')`],
  'serve-identities': [
    '11:23: jobs[0].serve.client_cns[1]: client identity contains "/" (letters, digits and _ - . : only: it becomes part of dataset names and hold tags)',
    '11:32: jobs[0].serve.client_cns[2]: client identity starts with "-" (it would be read as an option)',
    '11:39: jobs[0].serve.client_cns[3]: client identity cannot be ".."',
    "11:45: jobs[0].serve.client_cns[4]: client identity 'db1' is listed twice",
    '17:25: jobs[1].serve.client_identities[0]: client identity contains "@" (letters, digits and _ - . : only: it becomes part of dataset names and hold tags)',
    '21:49: jobs[2].serve.client_identities: must not be empty',
  ],
  'serve-tcp-clients': [
    '9:7: jobs[0].serve.clients["192.0.2.300"]: "192.0.2.300" is not an IPv4 or IPv6 address (a client is an address or a range like 198.51.100.0/24)',
    '10:7: jobs[0].serve.clients["198.51.100.0/33"]: the prefix length "33" is not a number from 0 to 32',
    "11:21: jobs[0].serve.clients[\"192.0.2.10\"]: client identity 'db-*' has a '*', but 192.0.2.10 is a single address (a '*' stands for the address of a client in a range)",
    "12:24: jobs[0].serve.clients[\"2001:db8::/32\"]: client identity '*-*' has more than one '*'",
    '13:25: jobs[0].serve.clients["203.0.113.0/24"]: client identity \'web/*\' (with \'*\' replaced by an address) contains "/" (letters, digits and _ - . : only: it becomes part of dataset names and hold tags)',
    '15:7: jobs[0].serve.clients["198.51.100.7/24"]: 198.51.100.7/24 is the network 198.51.100.0/24, already named by 198.51.100.0/24',
    '16:7: jobs[0].serve.clients["fe80::1%eth0"]: "fe80::1%eth0" is not an IPv4 or IPv6 address (a client is an address or a range like 198.51.100.0/24)',
    '20:48: jobs[1].serve.clients: names no client (a tcp serve accepts only the clients it names)',
  ],
  'connect-addresses': [
    '5:33: jobs[0].connect.address: expected HOST:PORT, got "backups.example.com" (no port)',
    '5:70: jobs[0].connect.dial_timeout: expected a duration like 10m, got a number (10): add a unit (10s, 10m, …)',
    '9:33: jobs[1].connect.address: expected HOST:PORT, got "2001:db8::1:8888": an IPv6 address is written in brackets: [2001:db8::1]:8888',
    "14:3: jobs[2].connect.server_cn: missing 'server_cn' (a tls connect checks the server certificate's CN)",
    '16:14: jobs[2].connect.address: expected HOST:PORT, got "[2001:db8::1]:70000": the port 70000 is not between 1 and 65535',
    '17:9: jobs[2].connect.ca: expected an absolute path (starting with /), got "ca.crt"',
    '20:24: jobs[2].connect.handshake_timeout: invalid duration "0s": it is 0; write it like 30s, 10m, 1h30m or 1d',
    '24:33: jobs[3].connect.address: expected HOST:PORT, got ":8888": the host is missing',
  ],
  'rpo-on-late': [
    '6:3: jobs[0].on_late: on_late needs rpo (the age after which a filesystem counts as late, e.g. rpo: 2h)',
    '10:30: jobs[0].hooks[0].when[1]: on_late needs rpo (the age after which a filesystem counts as late, e.g. rpo: 2h)',
    '16:8: jobs[1].rpo: invalid duration "2 hours": cannot read it; write it like 30s, 10m, 1h30m or 1d',
    '19:11: jobs[1].on_late[0].path: expected an absolute path (starting with /), got "usr/local/bin/page"',
    "20:48: jobs[1].on_late[1].when: unknown key 'when' (allowed here: type, path, args, timeout, err_is_fatal, filesystems)",
  ],
  'bandwidth-limit': [
    '7:28: jobs[0].send.bandwidth_limit.max: invalid size "50 Mbit": cannot read it (units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB); write it like 50 MiB, 23.5 MiB, 512 KiB or a number of bytes, or -1 for no limit',
    '7:54: jobs[0].send.bandwidth_limit.bucket_capacity: invalid size -1: it is negative; write it like 50 MiB, 23.5 MiB, 512 KiB or a number of bytes',
    '9:28: jobs[0].recv.bandwidth_limit.max: invalid size 0: it is 0 (-1, or leaving max out, means no limit)',
    "9:31: jobs[0].recv.bandwidth_limit.rate: unknown key 'rate' (allowed here: max, bucket_capacity)",
    '15:28: jobs[1].recv.bandwidth_limit.max: expected a size per second like 50 MiB, got a list',
  ],
  'listen-collision': [
    '6:16: global.serve.stdinserver.sockdir: expected an absolute path (starting with /), got "run/zferry"',
    '11:30: jobs[0].serve.listen: port 8888 is already listened on by prometheus (global.monitoring[0]): one socket per address and port',
    '15:30: jobs[1].serve.listen: port 8888 is already listened on by prometheus (global.monitoring[0]): one socket per address and port',
    "27:30: jobs[4].serve.listen: port 8888 is already listened on by sink job 'a' (jobs[0]): one socket per address and port",
  ],
  'push-tcp-with-root-fs': [
    "6:3: jobs[0].root_fs: a push over tls takes no root_fs: the remote sink job's root_fs decides where the filesystems land (remove it here)",
    "7:3: jobs[0].path_mapping: a push over tls takes no path_mapping: the remote sink job's path_mapping decides where the filesystems land (remove it here)",
  ],
  'sink-one-to-one': [
    `10:5: jobs[1].filesystems: sink job 'backups' (jobs[0]) maps one_to_one, a single filesystem tree onto its root_fs, but filesystems has 2 roots (tank/a, tank/b); use nested, or one job per tree`,
    `13:43: jobs[2].connect.listener_name: sink job 'backups' (jobs[0]) maps one_to_one: push job 'laptop' (jobs[1]) already lands at its root_fs`,
  ],
  'sink-without-root-fs': [`2:5: jobs[0].root_fs: missing 'root_fs' (a sink needs the dataset it receives into)`],
  'snap-without-snapshotting': [`2:5: jobs[0].snapshotting: missing 'snapshotting' (a snap job needs snapshotting: {type: periodic, …} or {type: cron, …})`],
  'ssh-port': [
    `7:13: jobs[0].connect.port: must be at most 65535, got a number (70000)`,
    `8:17: jobs[0].connect.options[0]: expected an ssh option as Key=value, got "Compression yes"`,
  ],
  'tab-indent': [`3:1: YAML syntax: a tab is used for indentation (YAML indents with spaces only)`],
  'time-zone': [
    `8:5: jobs[0].time_zone: time_zone applies to a 'cron' schedule only`,
    `15:16: jobs[1].time_zone: unknown time zone "Europe/Berlinn" (an IANA name like Europe/Berlin, America/New_York or UTC)`,
  ],
  'top-level-list': [`1:1: expected a map with 'global' and 'jobs', got a list`],
  'top-level-typo': [`1:1: job: unknown key 'job' (did you mean 'jobs'?)`],
  'unknown-job-type': [`3:11: jobs[0].type: expected 'push', 'pull', 'sink', 'source' or 'snap', got a string ('pusj') (did you mean 'push'?)`],
  'unknown-key-did-you-mean': [`6:5: jobs[0].filesytems: unknown key 'filesytems' (did you mean 'filesystems'?)`],
  'unknown-listener': [`10:22: jobs[1].connect.listener_name: unknown listener 'backup': no sink job in this file serves it (did you mean 'backups'?)`],
  'zero-interval': [`8:17: jobs[0].snapshotting.interval: invalid duration "0s": it is 0; write it like 30s, 10m, 1h30m or 1d`],
};

test('every broken fixture has its expected problems listed, and every listing a fixture', () => {
  const fixtures = readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.yml'))
    .map((name) => name.slice(0, -'.yml'.length))
    .sort();
  assert.deepEqual(fixtures, Object.keys(EXPECTED).sort());
  assert.ok(fixtures.length >= 30, `${fixtures.length} broken configs`);
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`broken config ${name}: ${expected.length} ${expected.length === 1 ? 'problem' : 'problems'} at their places`, async () => {
    const file = path.join(FIXTURES, `${name}.yml`);
    const error = await loadConfig(file).then(
      () => assert.fail(`${name}.yml was accepted`),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.code, 'CONFIG');
    assert.deepEqual(
      error.problems.map(formatProblem),
      expected.map((line) => `${file}:${line}`),
    );
    // The message names them all too, one per line after the headline.
    assert.deepEqual(error.message.split('\n').slice(1), error.problems.map(formatProblem));
  });
}
