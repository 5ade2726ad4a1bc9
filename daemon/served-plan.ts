/**
 * Resolving a plan bound to a served side's session (job-plan.ts): ask the sink or source that
 * other daemon serves where this client lands, then plan the runs there. One short connection,
 * before the runs: its refusal (a TLS certificate, an unknown address) fails the invocation
 * with the transport's own error, before anything is listed or sent.
 */
import type { PullJob, PushJob } from '../config/types.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import { errorCode, errorMessage } from '../platform/errors.js';
import { ServedSideRefusedError } from './errors.js';
import { resolveServedPlan, type ReplicationPlan } from './job-plan.js';

export async function withServedSession(job: PushJob | PullJob, plan: ReplicationPlan, opener: EndpointOpener, signal?: AbortSignal): Promise<ReplicationPlan> {
  if (plan.session === undefined) return plan;
  const side = opener.open(plan.session === 'receiver' ? plan.receiver : plan.sender);
  try {
    const session = await side.client.session({}, signal !== undefined ? { signal } : {}).catch((error: unknown) => {
      throw refusal(side.spec.kind, error);
    });
    return resolveServedPlan(job, plan, session);
  } finally {
    await side.close().catch(() => undefined);
  }
}

/** The likely reason a server closed on us before the session, added to its error. */
function refusal(kind: string, error: unknown): unknown {
  const code = errorCode(error);
  if (kind === 'tcp' && code === 'RPC_CONNECTION_LOST') {
    return new ServedSideRefusedError(
      code,
      errorMessage(error),
      "the server refuses clients whose address its sink or source's `clients` does not list",
      error,
    );
  }
  if (kind === 'tls' && code === 'TLS_CLIENT_CERT') {
    return new ServedSideRefusedError(code, errorMessage(error), "or its CN is not in the server's client_cns, or it expired", error);
  }
  return error;
}
