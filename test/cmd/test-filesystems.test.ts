/**
 * `zferry test filesystems JOB`, run as a real process on a real config file: the verdict on
 * one name with its deciding rule and place in the file, and the listing of a real pool (this
 * host for a push, the remote for a pull over ssh, the source job's filter for a local pull).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import type { TestFilesystemsReport } from '../../cmd/test-filesystems.js';
import { runZferry, serveCommand } from '../helpers/cli.js';
import { useSshd } from '../helpers/sshd.js';
import { createDataset, usePool } from '../helpers/zfs-pool.js';

describe('zferry test filesystems', () => {
  const ctx = usePool({ sizeMiB: 64 });
  const sshd = useSshd();
  let file = '';
  let built = false;

  /** The pool's tree and a config with a job of each kind over it (written once). */
  async function setup(): Promise<{ file: string; pool: string }> {
    const pool = ctx.pool.name;
    if (built) return { file, pool };
    for (const rel of ['a', 'a/b', 'a/b/c', 'a/tmp', 'other']) await createDataset(ctx.pool.dataset(rel));
    const connect = sshd().connectOptions();
    file = ctx.pool.scratch('zferry.yml');
    await writeFile(
      file,
      [
        'jobs:', //                                                  1
        '  - name: backups', //                                      2
        '    type: sink',
        '    serve: {type: local, listener_name: backups}',
        `    root_fs: ${pool}/sink`, //                              5
        '  - name: laptop',
        '    type: push',
        '    connect: {type: local, listener_name: backups, client_identity: laptop}',
        '    filesystems:',
        `      "${pool}/a<": true`, //                               10
        `      "${pool}/a/tmp": false`,
        `      "${pool}/a/b/c": false`,
        `      "${pool}/missing<": true`,
        '    interval: 10m',
        '  - name: served', //                                       15
        '    type: source',
        '    serve: {type: local, listener_name: served}',
        '    filesystems:',
        `      "${pool}/a<": true`,
        '  - name: fetch', //                                        20
        '    type: pull',
        '    connect: {type: local, listener_name: served, client_identity: fetcher}',
        `    root_fs: ${pool}/pulled`,
        '    filesystems:',
        `      "${pool}/a/b<": true`, //                             25
        '    interval: manual',
        '  - name: remote',
        '    type: pull',
        '    connect:',
        '      type: ssh', //                                        30
        `      host: ${connect.host}`,
        `      port: ${connect.port}`,
        `      user: ${connect.user}`,
        `      identity_file: ${connect.identityFile}`,
        `      options: ${JSON.stringify(connect.options)}`, //      35
        `      remote_command: ${JSON.stringify(serveCommand())}`,
        `    root_fs: ${pool}/fetched`,
        '    filesystems:',
        `      "${pool}/other": true`,
        '    interval: manual', //                                   40
        '',
      ].join('\n'),
    );
    built = true;
    return { file, pool };
  }

  test('--input: selected or not, by which rule and where it stands in the file', async () => {
    const { file, pool } = await setup();
    const cases: [string, string][] = [
      [`${pool}/a/b`, `${pool}/a/b: selected: "${pool}/a<": true (${file}:10:7), the only rule that matches`],
      [`${pool}/a/tmp`, `${pool}/a/tmp: not selected: "${pool}/a/tmp": false (${file}:11:7), the most specific of the 2 rules that match`],
      [`${pool}/a/b/c/d`, `${pool}/a/b/c/d: selected: "${pool}/a<": true (${file}:10:7), the only rule that matches`],
      [`${pool}/a/b/c`, `${pool}/a/b/c: not selected: "${pool}/a/b/c": false (${file}:12:7), the most specific of the 2 rules that match`],
      [`${pool}/other`, `${pool}/other: not selected: no rule matches it`],
      ['nopool/at/all', 'nopool/at/all: not selected: no rule matches it'],
    ];
    for (const [input, expected] of cases) {
      const result = await runZferry(['test', 'filesystems', 'laptop', '--config', file, '--input', input]);
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout, expected);
    }
  });

  test('--input --json: the verdict with the deciding rule', async () => {
    const { file, pool } = await setup();
    const result = await runZferry(['test', 'filesystems', 'laptop', '--config', file, '--input', `${pool}/a/tmp`, '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const report = JSON.parse(result.stdout) as TestFilesystemsReport;
    assert.deepEqual(report, {
      job: 'laptop',
      type: 'push',
      filesystems: [
        {
          filesystem: `${pool}/a/tmp`,
          selected: false,
          reason: `"${pool}/a/tmp": false (${file}:11:7), the most specific of the 2 rules that match`,
          rule: { pattern: `${pool}/a/tmp`, include: false, file, line: 11, column: 7 },
        },
      ],
    });
  });

  test("a push job: this host's filesystems below the filter's roots, each marked", async () => {
    const { file, pool } = await setup();
    const result = await runZferry(['test', 'filesystems', 'laptop', '--config', file]);
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.equal(lines[0], `job laptop (push): the filesystems on this host below ${pool}/a, ${pool}/missing`);
    assert.equal(lines[1], `  ${pool}/missing: no such filesystem`);
    const marks = lines.slice(2, -1).map((line) => line.trim().split(/ {2,}/).slice(0, 2));
    assert.deepEqual(marks, [
      ['selected', `${pool}/a`],
      ['selected', `${pool}/a/b`],
      ['not selected', `${pool}/a/b/c`],
      ['not selected', `${pool}/a/tmp`],
    ]);
    assert.equal(lines.at(-1), '4 filesystems, 2 selected');
    const json = await runZferry(['test', 'filesystems', 'laptop', '--config', file, '--json']);
    const report = JSON.parse(json.stdout) as TestFilesystemsReport;
    assert.deepEqual(report.roots, [`${pool}/a`, `${pool}/missing`]);
    assert.deepEqual(report.missingRoots, [`${pool}/missing`]);
    assert.deepEqual(
      report.filesystems.map((verdict) => [verdict.filesystem, verdict.selected, verdict.rule?.line]),
      [
        [`${pool}/a`, true, 10],
        [`${pool}/a/b`, true, 10],
        [`${pool}/a/b/c`, false, 12],
        [`${pool}/a/tmp`, false, 11],
      ],
    );
  });

  test("a pull from a local source job: the source's filter, narrowed by the pull's own", async () => {
    const { file, pool } = await setup();
    const result = await runZferry(['test', 'filesystems', 'fetch', '--config', file, '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const report = JSON.parse(result.stdout) as TestFilesystemsReport;
    assert.deepEqual(
      report.filesystems.map((verdict) => [verdict.filesystem, verdict.selected, verdict.reason]),
      [
        [`${pool}/a`, false, `job "fetch": no rule matches it`],
        [
          `${pool}/a/b`,
          true,
          `source job "served": "${pool}/a<": true (${file}:19:7), the only rule that matches; job "fetch": "${pool}/a/b<": true (${file}:25:7), the only rule that matches`,
        ],
        [
          `${pool}/a/b/c`,
          true,
          `source job "served": "${pool}/a<": true (${file}:19:7), the only rule that matches; job "fetch": "${pool}/a/b<": true (${file}:25:7), the only rule that matches`,
        ],
        [`${pool}/a/tmp`, false, `job "fetch": no rule matches it`],
      ],
    );
  });

  test("a pull over ssh: the remote's filesystems", async () => {
    const { file, pool } = await setup();
    const result = await runZferry(['test', 'filesystems', 'remote', '--config', file]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\n'), [
      `job remote (pull): the filesystems on ${sshd().user}@${sshd().host} below ${pool}/other`,
      `  selected      ${pool}/other  "${pool}/other": true (${file}:39:7), the only rule that matches`,
      '1 filesystem, 1 selected',
    ]);
  });

  test('an unknown job, a sink, a bad name or a broken config: exit 2', async () => {
    const { file } = await setup();
    const unknown = await runZferry(['test', 'filesystems', 'lapotp', '--config', file]);
    assert.equal(unknown.exitCode, 2);
    assert.equal(unknown.stderr.trim(), `zferry: [UNKNOWN_JOB] no job named "lapotp" in ${file}; its jobs: backups, laptop, served, fetch, remote`);
    const sink = await runZferry(['test', 'filesystems', 'backups', '--config', file]);
    assert.equal(sink.exitCode, 2);
    assert.match(sink.stderr, /job "backups" is a sink: it has no filesystems filter/);
    const badName = await runZferry(['test', 'filesystems', 'laptop', '--config', file, '--input', '-rf']);
    assert.equal(badName.exitCode, 2, badName.stderr);
    const broken = ctx.pool.scratch('broken.yml');
    await writeFile(broken, 'jobs:\n  - name: x\n    type: push\n');
    const config = await runZferry(['test', 'filesystems', 'x', '--config', broken]);
    assert.equal(config.exitCode, 2);
    assert.match(config.stderr, new RegExp(`${broken}:2:`));
  });
});
