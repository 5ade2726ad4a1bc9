/** Errors of a replication job as a whole (per-filesystem failures are reported, not thrown). */

export class ReplicationError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class SourceNotFoundError extends ReplicationError {
  constructor(source: string) {
    super('SOURCE_NOT_FOUND', `source filesystem ${source} does not exist`);
  }
}

/** The remote answered something that does not belong to what we asked (hostile or broken). */
export class UntrustedAnswerError extends ReplicationError {
  constructor(message: string) {
    super('UNTRUSTED_ANSWER', message);
  }
}

/** The receiver reports a snapshot other than the one sent. */
export class StepVerificationError extends ReplicationError {
  constructor(message: string) {
    super('STEP_UNVERIFIED', message);
  }
}
