/**
 * Every filesystem's last step, verified at once: one `zfs get` per 64 snapshots instead of
 * one per filesystem while the others receive. A snapshot missing or not the one sent fails
 * its filesystem (and no cursor moves to it), as a check right after the receive would have;
 * so does a receiver that cannot be asked.
 */
import type { FilesystemVersion } from '../zfs/types.js';
import type { RunContext } from './context.js';
import { StepVerificationError, UntrustedAnswerError, describeError } from './errors.js';
import type { FilesystemRun } from './run-filesystem.js';
import { checkReceived } from './run-step.js';

/** The runs once checked: none left unverified, and one whose check failed has no base. */
export async function checkLastSteps(run: RunContext, runs: readonly FilesystemRun[]): Promise<FilesystemRun[]> {
  const snapshots = runs.flatMap((r) => (r.unverified ? [`${r.status.target}@${r.unverified.name}`] : []));
  if (snapshots.length === 0) return [...runs];
  let answer: Array<FilesystemVersion | null> | undefined;
  let failure: unknown;
  try {
    // Not cut short by an interrupt: these receives are over, and the summary should say
    // whether they landed (one quick zfs get per 64 snapshots).
    ({ versions: answer } = await run.receiver.verifyReceived({ snapshots }));
    if (answer.length !== snapshots.length) {
      throw new UntrustedAnswerError(`the receiver answered ${answer.length} versions for ${snapshots.length} snapshots`);
    }
  } catch (error) {
    failure = error;
  }
  let asked = 0;
  return runs.map(({ unverified, ...checked }) => {
    if (unverified === undefined) return checked;
    const index = asked++;
    const problem = failure !== undefined ? describeError(failure) : mismatch(answer?.[index], snapshots[index] ?? '', checked.status.target, unverified);
    checked.status.checked(problem);
    return problem === undefined ? checked : { status: checked.status, ...(checked.renamed ? { renamed: true } : {}) };
  });
}

/** Why the receiver's `version` of `snapshot` is not the snapshot that was sent, if it is not. */
function mismatch(
  version: FilesystemVersion | null | undefined,
  snapshot: string,
  target: string,
  sent: FilesystemVersion,
): { code: string; message: string } | undefined {
  try {
    if (!version) throw new StepVerificationError(`${snapshot} is not on the receiver after sending ${sent.fullName} (guid ${sent.guid})`);
    checkReceived(version, target, sent);
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}
