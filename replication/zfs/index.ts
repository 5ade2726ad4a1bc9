/** The `zfs` command line driver: public surface. */

export { ZfsDriver, type ZfsDriverOptions } from './driver.js';
export type { ZfsCommandInfo, ZfsCommandObserver } from './command-observer.js';
export { defaultProbeCachePath } from './probe-cache.js';
export type { FilesystemVersion, VersionType, ZfsCapabilities } from './types.js';
export type { DirectSendProcess, SendOptions, SendProcess } from './send.js';
export { decodeResumeToken, type NvValue, type ResumeToken } from './resume-token.js';
export { directSendOf, offerDirectSend, parseReceivedBytes, type DirectSendSource } from './direct-send.js';
export type { ReceiveOptions, ReceiveResult } from './receive.js';
export type { PropertyValue } from './parse.js';
export type { PruneTreeFilesystem, PruneTreeListing, PruneTreeSnapshot } from './prune-tree.js';
export {
  ZfsError,
  DatasetNotFoundError,
  DestinationExistsError,
  TargetModifiedError,
  IncrementalMismatchError,
  IncrementalSourceMissingError,
  InvalidStreamError,
  PartialReceiveStateError,
  OutOfSpaceError,
  DatasetBusyError,
  PermissionDeniedError,
  DaemonNotRunningError,
  HoldExistsError,
  HoldNotFoundError,
  ZfsUnsupportedError,
  ReceiveVerificationError,
  ZfsAbortedError,
  ZfsUnknownError,
  InvalidNameError,
  ResumeTokenDecodeError,
  classifyZfsError,
  normalizeStderr,
  type ZfsErrorDetails,
} from './errors.js';
export {
  MAX_NAME_LENGTH,
  parseDatasetName,
  validateFilesystemName,
  validateSnapshotName,
  validateBookmarkName,
  validateVersionName,
  validateShortName,
  validatePropertyName,
  validateUserPropertyName,
  validateHoldTag,
  validateGuid,
  validateResumeToken,
  isValidName,
  isValidShortName,
  filesystemNameProblem,
  isAtOrBelow,
  compareFilesystemNames,
  poolOf,
  parentOf,
  type DatasetKind,
  type ParsedName,
} from './names.js';
