/**
 * The daemon configs the benchmark runs, as YAML (docs/configuration.md's vocabulary): push
 * jobs that connect locally to one sink of the same config, snapshotting manual (they
 * replicate what exists), every snapshot sent to an empty target like `zferry push` does.
 * Pure: the caller writes the text to the daemon's config file.
 */

export interface DaemonPaths {
  stateDir: string;
  sockpath: string;
}

export interface SinkSpec {
  /** Job name and local listener name. */
  name: string;
  rootFs: string;
}

export interface PushSpec {
  name: string;
  /** `filesystems` rules, e.g. `{ "pool/tree<": true }`. */
  filesystems: Readonly<Record<string, boolean>>;
  /** `10m`, `1h`, `manual`. */
  interval: string;
}

/** The client identity every push job names: one host, many jobs (a sink puts it in paths). */
export const CLIENT_IDENTITY = 'bench';

export function daemonConfigYaml(paths: DaemonPaths, sink: SinkSpec, pushes: readonly PushSpec[]): string {
  const lines = [
    'global:',
    `  state_dir: ${quote(paths.stateDir)}`,
    '  control:',
    `    sockpath: ${quote(paths.sockpath)}`,
    'jobs:',
    `  - name: ${sink.name}`,
    '    type: sink',
    `    serve: {type: local, listener_name: ${sink.name}}`,
    `    root_fs: ${sink.rootFs}`,
  ];
  for (const push of pushes) {
    lines.push(
      `  - name: ${push.name}`,
      '    type: push',
      `    connect: {type: local, listener_name: ${sink.name}, client_identity: ${CLIENT_IDENTITY}}`,
      '    filesystems:',
      ...Object.entries(push.filesystems).map(([rule, include]) => `      ${quote(rule)}: ${String(include)}`),
      `    interval: ${push.interval}`,
      '    snapshotting: {type: manual}',
      // `zferry push` sends every snapshot to an empty target; zrepl's default is the most recent only.
      '    conflict_resolution: {initial_replication: all}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Where a sink of `daemonConfigYaml` receives `source` (zrepl's mapping: root_fs/<client>/<source>). */
export function sinkTargetOf(sink: SinkSpec, source: string): string {
  return `${sink.rootFs}/${CLIENT_IDENTITY}/${source}`;
}

/** A double-quoted YAML scalar (JSON's escapes are YAML's). */
function quote(text: string): string {
  return JSON.stringify(text);
}
