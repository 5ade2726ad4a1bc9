/** What the rest of zferry uses of config/: loading the file, and the pure helpers the daemon needs. */
export { loadConfig, parseConfig } from './load.js';
export { ConfigError, formatProblem, type ConfigProblem } from './errors.js';
export { filterRoots, parseFilterKey, selectFilesystem, type FilesystemSelection, type FilterRuleCore } from './filesystem-filter.js';
export { describeSchedule, nextRun } from './schedule.js';
export { DurationError, formatDuration, parseDuration } from './duration.js';
export type * from './types.js';
export { DEFAULT_CONFIG_FILE, DEFAULT_CONTROL_SOCKPATH, DEFAULT_STATE_DIR } from './types.js';
