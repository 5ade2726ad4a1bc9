/**
 * The configuration file's shape, as zod schemas in zrepl's vocabulary (snake_case keys):
 * what each key takes, its default, and the words for a wrong or missing value. Rules that
 * span several keys or jobs live in job-rules.ts and cross-job.ts; zrepl keys zferry does not
 * take are named by zrepl-compat.ts. The JSON Schema for editors is generated from this one
 * (json-schema.ts).
 */
import { z } from 'zod';
import { hostPortProblem, parseClientNetwork } from './address.js';
import { DURATION_EXAMPLES, durationProblem } from './duration.js';
import { filterKeyProblem } from './filesystem-filter.js';
import { expecting, kindOf, KEY_LINE_SEPARATOR, MISSING_MARK, oneOf, unknownKeyMessage } from './messages.js';
import { componentProblem, datasetNameProblem, snapshotPrefixProblem } from './names.js';
import { cronProblem, timeZoneProblem } from './schedule.js';
import { parseSize, SIZE_EXAMPLES } from './size.js';
import { DEFAULT_CONTROL_SOCKPATH, DEFAULT_STATE_DIR, DEFAULT_STDINSERVER_SOCKDIR } from './types.js';

/** Defaults that are zferry's choice (docs/configuration.md says why). */
export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_INITIAL_REPLICATION = 'most_recent';
export const DEFAULT_TIMESTAMP_FORMAT = 'dense';
/** zrepl's default hook timeout. */
export const DEFAULT_HOOK_TIMEOUT = '30s';
/** zrepl's default dial timeout, and zferry's TLS handshake timeout. */
export const DEFAULT_DIAL_TIMEOUT = '10s';
export const DEFAULT_HANDSHAKE_TIMEOUT = '10s';

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

/** What a server listens on: `:PORT` (every address), `HOST:PORT`, `[V6]:PORT`. */
function listenAddress(example: string, whyRequired: string) {
  return text(`an address like ${example}`, whyRequired).superRefine(refuse((listen) => hostPortProblem(listen, true)));
}

/** What a client dials: `HOST:PORT`, `[V6]:PORT`. */
function dialAddress(whyRequired: string) {
  return text('an address like backup.example.com:8888', whyRequired).superRefine(refuse((address) => hostPortProblem(address, false)));
}

const prometheus = z.strictObject({
  type: z.literal('prometheus'),
  listen: listenAddress(':9811 or 127.0.0.1:9811', 'prometheus needs the address it listens on'),
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
      serve: z
        .strictObject(
          {
            stdinserver: z
              .strictObject({ sockdir: absolutePath().default(DEFAULT_STDINSERVER_SOCKDIR) }, expecting('a map with sockdir'))
              .prefault({})
              .describe('where stdinserver sinks and sources keep one socket per client identity (`zferry stdinserver ID` connects to it)'),
          },
          expecting('a map with stdinserver'),
        )
        .prefault({}),
      state_dir: absolutePath().default(DEFAULT_STATE_DIR).describe('zferry: what the daemon remembers across restarts (the job names it ran)'),
    },
    expecting('a map (logging, monitoring, control, serve, state_dir)'),
  )
  .prefault({});

// ---------------------------------------------------------------- connect, serve

const HOST = /^[A-Za-z0-9_.:%[\]][A-Za-z0-9_.:%[\]-]*$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;
const SSH_OPTION = /^[A-Za-z][A-Za-z0-9]*=[^\n\r\0]*$/;

/**
 * A client identity: a single dataset component, since a sink files each client's filesystems
 * below `root_fs/<identity>`.
 */
function identity(whyRequired?: string) {
  return component('client identity', whyRequired);
}

/** A list of identities, none twice. */
function identities(noun: string, whyRequired: string) {
  return list(identity(), `a list of ${noun}`, whyRequired)
    .min(1)
    .superRefine((values, ctx) => {
      for (const [index, value] of values.entries()) {
        if (values.indexOf(value) !== index)
          ctx.addIssue({ code: 'custom', message: `client identity '${value}' is listed twice`, input: value, path: [index] });
      }
    });
}

const localConnect = z
  .strictObject({
    type: z.literal('local'),
    listener_name: component('listener name', 'a local connect names the sink or source job it talks to by its serve.listener_name'),
    client_identity: identity('a sink files what it receives below root_fs/<client_identity>'),
  })
  .describe('a sink or source job of the same daemon');

function sshConnect(type: 'ssh' | 'ssh+stdinserver') {
  return z
    .strictObject({
      type: z.literal(type),
      host: text('a host name or address', 'an ssh connect needs the host it reaches').superRefine(
        refuse((host) =>
          HOST.test(host) ? undefined : `invalid ssh host ${JSON.stringify(host)}${host.includes('@') ? ' (write the user under user:)' : ''}`,
        ),
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
    .describe(
      type === 'ssh'
        ? 'zferry serve --stdio (or the forced command of authorized_keys) on another host, through the system ssh client'
        : "zrepl's name for type ssh: the remote key's forced command (zferry stdinserver ID) reaches a stdinserver sink or source",
    );
}

const dialTimeout = duration().default(DEFAULT_DIAL_TIMEOUT).describe('how long connecting may take');
const handshakeTimeout = duration().default(DEFAULT_HANDSHAKE_TIMEOUT).describe('how long the TLS handshake may take');
const pemFile = (what: string) => absolutePath(`tls needs ${what} (an absolute path of a PEM file)`);

const tcpConnect = z
  .strictObject({
    type: z.literal('tcp'),
    address: dialAddress('a tcp connect needs the address of the sink or source'),
    dial_timeout: dialTimeout,
  })
  .describe('a sink or source of another daemon that serves type tcp (no encryption: for trusted networks)');

const tlsConnect = z
  .strictObject({
    type: z.literal('tls'),
    address: dialAddress('a tls connect needs the address of the sink or source'),
    ca: pemFile('the CA that signed the server certificate'),
    cert: pemFile("this client's certificate"),
    key: pemFile("this client's private key"),
    server_cn: text('a certificate common name', "a tls connect checks the server certificate's CN").min(1),
    dial_timeout: dialTimeout,
    handshake_timeout: handshakeTimeout,
  })
  .describe('a sink or source of another daemon that serves type tls: mutual TLS, the CN of our certificate is our identity');

function connectSchema(whyRequired: string) {
  return z.discriminatedUnion(
    'type',
    [localConnect, sshConnect('ssh'), sshConnect('ssh+stdinserver'), tcpConnect, tlsConnect],
    expecting('a map with a type (local, ssh, ssh+stdinserver, tcp or tls)', whyRequired),
  );
}

const tcpClients = z
  .record(
    text('an address or range').superRefine(
      refuse((key) => {
        const parsed = parseClientNetwork(key);
        return 'problem' in parsed ? parsed.problem : undefined;
      }),
    ),
    text('a client identity'),
    expecting('a map of client addresses to identities like "192.0.2.10": db1', 'a tcp serve accepts only the clients it names'),
  )
  .superRefine((clients, ctx) => {
    // The identities and repeated networks are checked by job-rules.ts, whatever else is wrong here.
    if (Object.keys(clients).length === 0)
      ctx.addIssue({ code: 'custom', message: 'names no client (a tcp serve accepts only the clients it names)', input: clients });
  })
  .describe('zrepl\'s form: "192.0.2.10": db1, "198.51.100.0/24": "web-*" (a * in a range\'s identity is replaced by the client\'s address)');

function serveSchema(whyRequired: string) {
  return z.discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('local'),
        listener_name: component('listener name', 'push and pull jobs of this daemon connect to it by this name'),
      }),
      z
        .strictObject({
          type: z.literal('tcp'),
          listen: listenAddress(':8888 or 192.0.2.1:8888', 'a tcp serve needs the address it listens on'),
          clients: tcpClients,
        })
        .describe('clients of other hosts over plain TCP, known by their address (no encryption: for trusted networks)'),
      z
        .strictObject({
          type: z.literal('tls'),
          listen: listenAddress(':8888 or 192.0.2.1:8888', 'a tls serve needs the address it listens on'),
          ca: pemFile('the CA that signed the client certificates'),
          cert: pemFile("this server's certificate"),
          key: pemFile("this server's private key"),
          client_cns: identities('client certificate CNs', 'a tls serve accepts only the client CNs it names'),
          handshake_timeout: handshakeTimeout,
        })
        .describe("clients of other hosts over mutual TLS; a client certificate's CN is its identity"),
      z
        .strictObject({
          type: z.literal('stdinserver'),
          client_identities: identities('client identities', 'a stdinserver serve accepts only the identities it names'),
        })
        .describe('clients through ssh: their key\'s forced command "zferry stdinserver ID" reaches this job as identity ID'),
    ],
    expecting('a map with a type (local, tcp, tls or stdinserver)', whyRequired),
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
/** A job's hooks may also run when a filesystem goes late (and recovers): never by default, it needs `rpo`. */
const JOB_HOOK_WHEN = [...HOOK_TYPES.job, 'on_late'] as const;

const HOOK_DESCRIPTIONS = {
  snapshotting: "runs before and after each filesystem's snapshot; sees ZFERRY_HOOKTYPE, ZFERRY_JOB, ZFERRY_FS, ZFERRY_SNAPNAME (and zrepl's ZREPL_* names)",
  job: 'zferry: runs before and after each replication run; post_replication sees ZFERRY_OUTCOME and ZFERRY_SUMMARY, and the JSON summary on stdin; when: on_late runs it like an on_late hook',
  on_late: 'zferry: runs once when a filesystem falls behind rpo and once when it recovers (ZFERRY_LATE_STATE)',
};

function commandHookShape(place: 'snapshotting' | 'job' | 'on_late') {
  return {
    type: z.literal('command'),
    path: absolutePath('a command hook needs the absolute path of what it runs'),
    args: list(text('an argument (a string: quote numbers)'), 'a list of arguments').default([]).describe('zferry: arguments passed to the command (no shell)'),
    timeout: duration().default(DEFAULT_HOOK_TIMEOUT).describe('the hook and everything it started are killed after this long'),
    err_is_fatal: bool()
      .default(false)
      .describe(
        place === 'snapshotting'
          ? 'a failed pre_snapshot hook skips the snapshot of its filesystem'
          : place === 'job'
            ? 'a failed pre_replication hook skips the replication of its root'
            : 'accepted for the common form; a failed on_late hook only logs',
      ),
    filesystems: filesystemsSchema('').optional().describe("run only for the filesystems this filter selects (default: all of the job's)"),
  };
}

function whenSchema(types: readonly string[], defaults: readonly string[]) {
  const when = z.enum(types, expecting('a hook type', `one of ${oneOf(types)}`));
  return z
    .union([when, list(when, `a list of hook types (${oneOf(types)})`).min(1)], expecting(`a hook type or a list of them (${oneOf(types)})`))
    .optional()
    .describe(`zferry: ${oneOf(types)} (default: ${defaults.join(' and ')})`);
}

function hooksSchema(place: keyof typeof HOOK_TYPES) {
  const command = z
    .strictObject({
      ...commandHookShape(place),
      when: place === 'job' ? whenSchema(JOB_HOOK_WHEN, HOOK_TYPES.job) : whenSchema(HOOK_TYPES.snapshotting, HOOK_TYPES.snapshotting),
    })
    .describe(HOOK_DESCRIPTIONS[place]);
  return list(z.discriminatedUnion('type', [command], expecting('a hook (a map with type: command)')), 'a list of hooks');
}

/** `on_late`: one command hook or a list of them. */
const onLateHooks = (() => {
  const hook = z.discriminatedUnion(
    'type',
    [z.strictObject(commandHookShape('on_late')).describe(HOOK_DESCRIPTIONS.on_late)],
    expecting('a hook (a map with type: command)'),
  );
  return z
    .union([hook, list(hook, 'a list of hooks')], expecting('a hook (a map with type: command) or a list of them'))
    .describe('zferry: hooks run once when a filesystem falls behind rpo and once when it recovers; needs rpo');
})();

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

/** A size: bytes, or a string with a unit (zrepl's `23.5 MiB`); -1 (for `max`) is unlimited. */
function size(noun: string, allowUnlimited: boolean) {
  return z.union([z.number(), z.string()], expecting(noun)).superRefine((value, ctx) => {
    if (allowUnlimited && value === -1) return;
    const parsed = parseSize(value);
    if ('problem' in parsed)
      ctx.addIssue({
        code: 'custom',
        message: `invalid size ${JSON.stringify(value)}: ${parsed.problem}; ${SIZE_EXAMPLES}${allowUnlimited ? ', or -1 for no limit' : ''}`,
        input: value,
      });
    else if (parsed.bytes === 0)
      ctx.addIssue({
        code: 'custom',
        message: `invalid size ${JSON.stringify(value)}: it is 0${allowUnlimited ? ' (-1, or leaving max out, means no limit)' : ''}`,
        input: value,
      });
  });
}

const bandwidthLimit = z
  .strictObject(
    {
      max: size('a size per second like 50 MiB', true).optional().describe('bytes per second (50 MiB, 23.5 MiB, 1048576); -1 or absent: no limit'),
      bucket_capacity: size('a size like 1 MiB', false)
        .optional()
        .describe('the burst the token bucket allows (default: a quarter second of max, at least 128 KiB)'),
    },
    expecting('a map with max (and bucket_capacity)'),
  )
  .describe("zrepl's: a token bucket shared by all of the job's streams in this direction");

const sendOptions = z
  .strictObject(
    {
      raw: bool().default(false).describe('zfs send -w: encrypted datasets stay encrypted'),
      compressed: bool().default(false).describe('zfs send -c'),
      large_blocks: bool().default(false).describe('zfs send -L (once a target got -L streams, keep sending them)'),
      embedded_data: bool().default(false).describe('zfs send -e'),
      bandwidth_limit: bandwidthLimit.optional(),
    },
    expecting('a map (raw, compressed, large_blocks, embedded_data, bandwidth_limit)'),
  )
  .prefault({});

const recvOptions = z.strictObject({ bandwidth_limit: bandwidthLimit.optional() }, expecting('a map with bandwidth_limit'));

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

const lateness = {
  rpo: duration().optional().describe('zferry: a filesystem whose newest replicated snapshot is older than this is late (status, metrics, on_late hooks)'),
  on_late: onLateHooks.optional(),
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
      recv: recvOptions.optional(),
      ...policy,
      hooks: hooksSchema('job').optional(),
      ...lateness,
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
      ...lateness,
    },
    jobKeyError('pull'),
  ),
  sink: z.strictObject(
    {
      name: jobName,
      type: z.literal('sink'),
      renamed_from: renamedFrom,
      serve: serveSchema('a sink needs serve: {type: tls, …}, {type: tcp, …}, {type: stdinserver, …} or {type: local, …} for push jobs to reach it'),
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
      serve: serveSchema('a source needs serve: {type: tls, …}, {type: tcp, …}, {type: stdinserver, …} or {type: local, …} for pull jobs to reach it'),
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
