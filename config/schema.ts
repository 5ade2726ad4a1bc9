/**
 * The configuration file's shape, as zod schemas in zrepl's vocabulary (snake_case keys):
 * what each key takes, its default, and the words for a wrong or missing value. Rules that
 * span several keys or jobs live in job-rules.ts and cross-job.ts; zrepl keys zferry does not
 * take are named by zrepl-compat.ts. The JSON Schema for editors is generated from this one
 * (json-schema.ts).
 */
import { z } from 'zod';
import { DURATION_EXAMPLES, durationProblem } from './duration.js';
import { filterKeyProblem } from './filesystem-filter.js';
import { expecting, kindOf, KEY_LINE_SEPARATOR, MISSING_MARK, oneOf, unknownKeyMessage } from './messages.js';
import { componentProblem, datasetNameProblem, snapshotPrefixProblem } from './names.js';
import { cronProblem, timeZoneProblem } from './schedule.js';
import { DEFAULT_CONTROL_SOCKPATH, DEFAULT_STATE_DIR } from './types.js';

/** Defaults that are zferry's choice (docs/configuration.md says why). */
export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_INITIAL_REPLICATION = 'most_recent';
export const DEFAULT_TIMESTAMP_FORMAT = 'dense';
/** zrepl's default hook timeout. */
export const DEFAULT_HOOK_TIMEOUT = '30s';

function refuse(problem: (value: string) => string | undefined) {
  return (value: string, ctx: z.RefinementCtx): void => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: value });
  };
}

function text(noun: string, whyRequired?: string) {
  return z.string(expecting(noun, whyRequired));
}

function datasetName(whyRequired?: string) {
  return text('a dataset name like pool/backups', whyRequired).superRefine(
    refuse((name) => {
      const problem = datasetNameProblem(name);
      return problem === undefined ? undefined : `${JSON.stringify(name)} is not a valid dataset name: it ${problem}`;
    }),
  );
}

function component(what: string, whyRequired?: string) {
  return text(`a ${what}`, whyRequired).superRefine(refuse((name) => componentProblem(name, what)));
}

function absolutePath(whyRequired?: string) {
  return text('an absolute path', whyRequired).superRefine(
    refuse((path) => (path.startsWith('/') && !path.includes('\0') ? undefined : `expected an absolute path (starting with /), got ${JSON.stringify(path)}`)),
  );
}

function duration(whyRequired?: string, allowManual = false) {
  const noun = allowManual ? 'a duration like 10m, or manual' : 'a duration like 10m';
  return z
    .string({
      error: (issue) => {
        if (issue.input === undefined) return MISSING_MARK + (whyRequired ?? '');
        if (typeof issue.input === 'number') return `expected ${noun}, got ${kindOf(issue.input)}: add a unit (${issue.input}s, ${issue.input}m, …)`;
        return `expected ${noun}, got ${kindOf(issue.input)}`;
      },
    })
    .superRefine(
      refuse((value) => {
        if (allowManual && value === 'manual') return undefined;
        const problem = durationProblem(value);
        return problem === undefined
          ? undefined
          : `invalid duration ${JSON.stringify(value)}: ${problem}; ${DURATION_EXAMPLES}${allowManual ? ', or manual' : ''}`;
      }),
    );
}

function cron(whyRequired?: string) {
  return text("a cron expression like '0 3 * * *'", whyRequired)
    .superRefine(refuse(cronProblem))
    .describe('croner syntax: 5 fields, or 6 with seconds first; day-of-week; @daily and friends');
}

const timeZone = text('a time zone like Europe/Berlin')
  .superRefine(refuse(timeZoneProblem))
  .describe('an IANA time zone for the cron expression (default: the system time zone)');

function bool() {
  return z.boolean(expecting('true or false'));
}

function wholeNumber(noun: string) {
  return z.number(expecting(noun)).int().min(1);
}

function list<T extends z.ZodType>(item: T, noun: string, whyRequired?: string) {
  return z.array(item, expecting(noun, whyRequired));
}

// ---------------------------------------------------------------- global

const logLevel = z.enum(['error', 'warn', 'info', 'debug', 'trace']);

const stdoutOutlet = z
  .strictObject({
    type: z.literal('stdout'),
    level: logLevel.default('info'),
    format: z.enum(['human', 'json', 'auto']).default('auto'),
  })
  .describe("zrepl's stdout outlet; zferry writes it to stderr (stdout may carry the RPC). auto: human on a terminal, JSON otherwise");

const fileOutlet = z
  .strictObject({
    type: z.literal('file'),
    level: logLevel.default('info'),
    format: z.enum(['human', 'json']).default('json'),
    path: absolutePath('a file outlet needs the file it appends to'),
  })
  .describe('zferry: append log lines to a file');

const prometheus = z.strictObject({
  type: z.literal('prometheus'),
  listen: text('an address like :9811 or 127.0.0.1:9811', 'prometheus needs the address it listens on').superRefine(
    refuse((listen) =>
      /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]*):\d{1,5}$/.test(listen) ? undefined : `expected HOST:PORT or :PORT, got ${JSON.stringify(listen)}`,
    ),
  ),
});

export const globalSchema = z
  .strictObject(
    {
      logging: list(
        z.discriminatedUnion('type', [stdoutOutlet, fileOutlet], expecting('a log outlet (a map with a type: stdout or file)')),
        'a list of log outlets',
      ).default([{ type: 'stdout', level: 'info', format: 'auto' }]),
      monitoring: list(
        z.discriminatedUnion('type', [prometheus], expecting('a monitoring endpoint (a map with type: prometheus)')),
        'a list of monitoring endpoints',
      ).default([]),
      control: z
        .strictObject({ sockpath: absolutePath().default(DEFAULT_CONTROL_SOCKPATH) }, expecting('a map with sockpath'))
        .prefault({})
        .describe('the control socket `zferry status` and `zferry signal` talk to'),
      state_dir: absolutePath().default(DEFAULT_STATE_DIR).describe('zferry: what the daemon remembers across restarts (the job names it ran)'),
    },
    expecting('a map (logging, monitoring, control, state_dir)'),
  )
  .prefault({});

// ---------------------------------------------------------------- connect, serve

const HOST = /^[A-Za-z0-9_.:%[\]][A-Za-z0-9_.:%[\]-]*$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;
const SSH_OPTION = /^[A-Za-z][A-Za-z0-9]*=[^\n\r\0]*$/;

const localConnect = z
  .strictObject({
    type: z.literal('local'),
    listener_name: component('listener name', 'a local connect names the sink or source job it talks to by its serve.listener_name'),
    client_identity: component('client identity', 'a sink files what it receives below root_fs/<client_identity>'),
  })
  .describe('a sink or source job of the same daemon');

const sshConnect = z
  .strictObject({
    type: z.literal('ssh'),
    host: text('a host name or address', 'an ssh connect needs the host it reaches').superRefine(
      refuse((host) => (HOST.test(host) ? undefined : `invalid ssh host ${JSON.stringify(host)}${host.includes('@') ? ' (write the user under user:)' : ''}`)),
    ),
    user: text('a user name')
      .superRefine(refuse((user) => (USER.test(user) ? undefined : `invalid ssh user ${JSON.stringify(user)}`)))
      .optional(),
    port: z.number(expecting('a port number')).int().min(1).max(65535).optional(),
    identity_file: absolutePath().optional(),
    options: list(
      text('an ssh option like Ciphers=aes128-gcm@openssh.com').superRefine(
        refuse((option) => (SSH_OPTION.test(option) ? undefined : `expected an ssh option as Key=value, got ${JSON.stringify(option)}`)),
      ),
      'a list of ssh options (Key=value)',
    ).default([]),
    remote_command: z
      .union([text('a command').min(1), list(text('a word').min(1), 'a list of words').min(1)], expecting('a command (a string, or a list of words)'))
      .optional()
      .describe('zferry: what runs on the remote host (default: zferry serve --stdio)'),
  })
  .describe('zferry serve --stdio (or the forced command of authorized_keys) on another host, through the system ssh client');

function connectSchema(whyRequired: string) {
  return z.discriminatedUnion('type', [localConnect, sshConnect], expecting('a map with a type (local or ssh)', whyRequired));
}

function serveSchema(whyRequired: string) {
  return z.discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('local'),
        listener_name: component('listener name', 'push and pull jobs of this daemon connect to it by this name'),
      }),
    ],
    expecting('a map with a type (local)', whyRequired),
  );
}

// ---------------------------------------------------------------- filesystems

function filesystemsSchema(whyRequired: string) {
  return z
    .record(text('a filter key').superRefine(refuse(filterKeyProblem)), bool(), expecting('a map of filters like "pool/data<": true', whyRequired))
    .superRefine((filters, ctx) => {
      const values = Object.values(filters);
      if (values.length === 0) ctx.addIssue({ code: 'custom', message: 'selects no filesystem (the filter map is empty)', input: filters });
      else if (!values.includes(true)) ctx.addIssue({ code: 'custom', message: 'selects no filesystem (every rule is false)', input: filters });
    })
    .describe(
      'zrepl\'s filter: "pool/a<": true selects the subtree, "pool/a": true the dataset alone, false excludes; the most specific rule wins, no match = not selected',
    );
}

// ---------------------------------------------------------------- hooks

/** The hook types each place runs (a hook without `when` runs at both). */
export const HOOK_TYPES = { snapshotting: ['pre_snapshot', 'post_snapshot'], job: ['pre_replication', 'post_replication'] } as const;

function hooksSchema(place: keyof typeof HOOK_TYPES) {
  const types = HOOK_TYPES[place];
  const when = z.enum(types, expecting('a hook type', `one of ${oneOf(types)}`));
  const command = z
    .strictObject({
      type: z.literal('command'),
      path: absolutePath('a command hook needs the absolute path of what it runs'),
      args: list(text('an argument (a string: quote numbers)'), 'a list of arguments')
        .default([])
        .describe('zferry: arguments passed to the command (no shell)'),
      timeout: duration().default(DEFAULT_HOOK_TIMEOUT).describe('the hook and everything it started are killed after this long'),
      err_is_fatal: bool()
        .default(false)
        .describe(
          place === 'snapshotting'
            ? 'a failed pre_snapshot hook skips the snapshot of its filesystem'
            : 'a failed pre_replication hook skips the replication of its root',
        ),
      filesystems: filesystemsSchema('').optional().describe("run only for the filesystems this filter selects (default: all of the job's)"),
      when: z
        .union([when, list(when, `a list of hook types (${oneOf(types)})`).min(1)], expecting(`a hook type or a list of them (${oneOf(types)})`))
        .optional()
        .describe(`zferry: ${oneOf(types)} or both (the default)`),
    })
    .describe(
      place === 'snapshotting'
        ? "runs before and after each filesystem's snapshot; sees ZFERRY_HOOKTYPE, ZFERRY_JOB, ZFERRY_FS, ZFERRY_SNAPNAME (and zrepl's ZREPL_* names)"
        : 'zferry: runs before and after each replication run; post_replication sees ZFERRY_OUTCOME and ZFERRY_SUMMARY, and the JSON summary on stdin',
    );
  return list(z.discriminatedUnion('type', [command], expecting('a hook (a map with type: command)')), 'a list of hooks');
}

// ---------------------------------------------------------------- snapshotting, pruning

const prefix = text('a snapshot name prefix like zferry_', 'snapshots are named PREFIX + timestamp').superRefine(
  refuse((value) => {
    const problem = snapshotPrefixProblem(value);
    return problem === undefined ? undefined : `invalid snapshot prefix ${JSON.stringify(value)}: it ${problem}`;
  }),
);
const timestampFormat = z.enum(['dense', 'human', 'iso-8601', 'unix-seconds']).default(DEFAULT_TIMESTAMP_FORMAT);
/** zrepl's `timestamp_location`: `UTC` (default), `Local` (the daemon's zone) or an IANA zone. */
const timestampLocation = text('UTC, Local or a time zone like Europe/Berlin')
  .superRefine(refuse((value) => (value === 'UTC' || value === 'Local' ? undefined : timeZoneProblem(value))))
  .describe("the time zone of the name's timestamp: UTC (default), Local (the daemon's) or an IANA zone; iso-8601 names are always UTC");

function snapshottingSchema(whyRequired?: string) {
  return z.discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('manual') }).describe('take no snapshots: replicate (or prune) what exists'),
      z.strictObject({
        type: z.literal('periodic'),
        prefix,
        interval: duration('periodic snapshotting needs an interval like 10m'),
        timestamp_format: timestampFormat,
        timestamp_location: timestampLocation.optional(),
        hooks: hooksSchema('snapshotting').optional(),
      }),
      z.strictObject({
        type: z.literal('cron'),
        prefix,
        cron: cron('cron snapshotting needs a cron expression'),
        time_zone: timeZone.optional(),
        timestamp_format: timestampFormat,
        timestamp_location: timestampLocation.optional(),
        hooks: hooksSchema('snapshotting').optional(),
      }),
    ],
    expecting('a map with a type (manual, periodic or cron)', whyRequired),
  );
}

export const PRUNING_RULE_TYPES = ['grid', 'last_n', 'regex', 'not_replicated'] as const;

const keepRules = list(
  z.looseObject({ type: z.enum(PRUNING_RULE_TYPES, expecting('a rule type', `one of ${oneOf(PRUNING_RULE_TYPES)}`)) }, expecting('a rule (a map with a type)')),
  'a list of rules',
).describe("keep rules (zrepl's: grid, last_n, regex, not_replicated); a snapshot no rule keeps is destroyed");

const replicationPruning = z.strictObject(
  { keep_sender: keepRules.optional(), keep_receiver: keepRules.optional() },
  expecting('a map with keep_sender and keep_receiver'),
);
const snapPruning = z.strictObject({ keep: keepRules }, expecting('a map with keep'));

// ---------------------------------------------------------------- replication policy

const sendOptions = z
  .strictObject(
    {
      raw: bool().default(false).describe('zfs send -w: encrypted datasets stay encrypted'),
      compressed: bool().default(false).describe('zfs send -c'),
      large_blocks: bool().default(false).describe('zfs send -L (once a target got -L streams, keep sending them)'),
      embedded_data: bool().default(false).describe('zfs send -e'),
    },
    expecting('a map (raw, compressed, large_blocks, embedded_data)'),
  )
  .prefault({});

const recvOptions = z
  .strictObject({}, expecting('a map (zferry takes no recv settings yet)'))
  .describe('accepted for zrepl configs; zferry takes no recv settings yet');

const policy = {
  send: sendOptions,
  conflict_resolution: z
    .strictObject(
      { initial_replication: z.enum(['all', 'most_recent', 'fail']).default(DEFAULT_INITIAL_REPLICATION) },
      expecting('a map with initial_replication'),
    )
    .prefault({})
    .describe('what to send to a target without snapshots'),
  replication: z
    .strictObject(
      {
        concurrency: z
          .union(
            [
              wholeNumber('a number of filesystems'),
              z.strictObject({
                steps: wholeNumber('a number of filesystems').default(DEFAULT_CONCURRENCY),
                size_estimates: wholeNumber('a number').optional(),
              }),
            ],
            expecting('a number of filesystems replicated at once, or a map {steps, size_estimates}'),
          )
          .default(DEFAULT_CONCURRENCY),
      },
      expecting('a map with concurrency'),
    )
    .prefault({}),
  on_diverged: z
    .enum(['fail', 'rollback', 'rename'])
    .default('fail')
    .describe('zferry: a target that moved past the newest common snapshot: refuse, roll it back, or rename it aside'),
  batch: bool().default(false).describe('zferry: one zfs send -I per run of snapshots instead of one -i per snapshot'),
  snapshots: z
    .strictObject(
      {
        include: list(text('a glob like zferry_*').min(1), 'a list of snapshot name globs').default([]),
        exclude: list(text('a glob like zferry_*').min(1), 'a list of snapshot name globs').default([]),
      },
      expecting('a map with include and exclude'),
    )
    .prefault({})
    .describe(
      'zferry: which snapshots the job owns (sends, prunes) besides those named with its snapshotting prefix, by their name after @ (no prefix and empty include = all; exclude wins)',
    ),
};

const schedule = {
  interval: duration(undefined, true).optional().describe("zrepl: how often the job runs (10m, 1h30m), or 'manual'"),
  cron: cron().optional().describe('zferry: when the job runs, as a cron expression (excludes interval)'),
  time_zone: timeZone.optional(),
};

const pathMapping = z
  .enum(['nested', 'one_to_one'])
  .default('nested')
  .describe(
    "nested (zrepl's): a sink puts client C's pool/x at root_fs/C/pool/x, a pull job at root_fs/pool/x; one_to_one (zferry): the single filter root lands at root_fs",
  );

// ---------------------------------------------------------------- jobs

const JOB_TYPES = ['push', 'pull', 'sink', 'source', 'snap'] as const;
type JobTypeName = (typeof JOB_TYPES)[number];

/** Unknown keys of a job: say which job types do take a key when it belongs to another type. */
function jobKeyError(type: JobTypeName): { error: (issue: z.core.$ZodRawIssue) => string | undefined } {
  return {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const known = jobKeys[type];
      return issue.keys
        .map((key) => {
          const takers = JOB_TYPES.filter((other) => other !== type && jobKeys[other].includes(key));
          if (takers.length > 0) return `unknown key '${key}' for a ${type} job (${takers.join(', ')} jobs take it)`;
          return unknownKeyMessage(key, known);
        })
        .join(KEY_LINE_SEPARATOR);
    },
  };
}

const jobName = component('job name', 'every job needs a unique name').describe('unique; it tags the holds and cursors the job keeps');
const renamedFrom = z
  .union([component('job name'), list(component('job name'), 'a list of job names')], expecting('a former job name, or a list of them'))
  .optional()
  .describe("zferry: the job's former names, whose cursors and holds it takes over");

const jobSchemas = {
  push: z.strictObject(
    {
      name: jobName,
      type: z.literal('push'),
      renamed_from: renamedFrom,
      connect: connectSchema('a push job needs the side it sends to'),
      filesystems: filesystemsSchema('a push job needs to know which filesystems it sends'),
      root_fs: datasetName().optional().describe('zferry, over ssh: the dataset on the remote host the filesystems land below'),
      path_mapping: pathMapping,
      ...schedule,
      snapshotting: snapshottingSchema().optional(),
      pruning: replicationPruning.optional(),
      ...policy,
      hooks: hooksSchema('job').optional(),
    },
    jobKeyError('push'),
  ),
  pull: z.strictObject(
    {
      name: jobName,
      type: z.literal('pull'),
      renamed_from: renamedFrom,
      connect: connectSchema('a pull job needs the side it pulls from'),
      root_fs: datasetName('a pull job needs the dataset it receives into'),
      filesystems: filesystemsSchema('').optional(),
      path_mapping: pathMapping,
      ...schedule,
      pruning: replicationPruning.optional(),
      recv: recvOptions.optional(),
      ...policy,
      hooks: hooksSchema('job').optional(),
    },
    jobKeyError('pull'),
  ),
  sink: z.strictObject(
    {
      name: jobName,
      type: z.literal('sink'),
      renamed_from: renamedFrom,
      serve: serveSchema('a sink needs serve: {type: local, listener_name: …} for push jobs to reach it'),
      root_fs: datasetName('a sink needs the dataset it receives into'),
      path_mapping: pathMapping,
      recv: recvOptions.optional(),
    },
    jobKeyError('sink'),
  ),
  source: z.strictObject(
    {
      name: jobName,
      type: z.literal('source'),
      renamed_from: renamedFrom,
      serve: serveSchema('a source needs serve: {type: local, listener_name: …} for pull jobs to reach it'),
      filesystems: filesystemsSchema('a source needs to know which filesystems it serves'),
      snapshotting: snapshottingSchema().optional(),
      send: sendOptions,
      pruning: snapPruning.optional().describe("zferry (zrepl#102): `keep` on the source's own pool, on its snapshotting's schedule"),
    },
    jobKeyError('source'),
  ),
  snap: z.strictObject(
    {
      name: jobName,
      type: z.literal('snap'),
      renamed_from: renamedFrom,
      filesystems: filesystemsSchema('a snap job needs to know which filesystems it snapshots'),
      snapshotting: snapshottingSchema('a snap job needs snapshotting: {type: periodic, …} or {type: cron, …}'),
      pruning: snapPruning.optional(),
    },
    jobKeyError('snap'),
  ),
};

/** The keys each job type takes (read when wording unknown keys). */
const jobKeys: Record<JobTypeName, readonly string[]> = {
  push: Object.keys(jobSchemas.push.shape),
  pull: Object.keys(jobSchemas.pull.shape),
  sink: Object.keys(jobSchemas.sink.shape),
  source: Object.keys(jobSchemas.source.shape),
  snap: Object.keys(jobSchemas.snap.shape),
};

export const jobSchema = z.discriminatedUnion(
  'type',
  [jobSchemas.push, jobSchemas.pull, jobSchemas.sink, jobSchemas.source, jobSchemas.snap],
  expecting('a job (a map with name, type and its settings)'),
);

export const configSchema = z
  .strictObject(
    {
      global: globalSchema,
      jobs: list(jobSchema, 'a list of jobs', 'the jobs this daemon runs (jobs: [] for none)'),
    },
    expecting("a map with 'global' and 'jobs'"),
  )
  .meta({ title: 'zferry configuration', description: 'The zferry daemon configuration (/etc/zferry/zferry.yml). Reference: docs/configuration.md' });

export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedJob = z.output<typeof jobSchema>;
