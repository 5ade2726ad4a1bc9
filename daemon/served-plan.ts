/**
 * Resolving a plan bound to a served side's session (job-plan.ts): ask the sink or source that
 * other daemon serves where this client lands, then plan the runs there. One short connection,
 * before the runs: its refusal (a TLS certificate, an unknown address) fails the invocation
 * with the transport's own error, before anything is listed or sent.
 */
import type { PullJob, PushJob } from '../config/types.js';
import type { EndpointOpener } from '../replication/endpoint/open.js';
import { resolveServedPlan, type ReplicationPlan } from './job-plan.js';

export async function withServedSession(job: PushJob | PullJob, plan: ReplicationPlan, opener: EndpointOpener, signal?: AbortSignal): Promise<ReplicationPlan> {
  if (plan.session === undefined) return plan;
  const side = opener.open(plan.session === 'receiver' ? plan.receiver : plan.sender);
  try {
    const session = await side.client.session({}, signal !== undefined ? { signal } : {});
    return resolveServedPlan(job, plan, session);
  } finally {
    await side.close().catch(() => undefined);
  }
}
