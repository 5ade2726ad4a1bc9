import type { FilesystemPlan, ReplicatePlan, Step } from './types.js';
import { shortName } from './versions.js';

/**
 * A plan as lines for people (`--dry-run`, logs), one action per line, in execution order.
 * Lists are never cut here: a dry run must show everything a rollback would destroy.
 */
export function describePlan(plan: FilesystemPlan): string[] {
  switch (plan.action) {
    case 'up-to-date':
      return [`up-to-date  ${plan.source} -> ${plan.target} (at ${shortName(plan.common)})`];
    case 'skip':
      return [`skip  ${plan.source}: ${plan.reason}`];
    case 'refuse':
      return [`refuse  ${plan.source} -> ${plan.target}: ${plan.error.code}: ${plan.error.message}`];
    case 'replicate':
      return describeReplication(plan);
  }
}

function describeReplication(plan: ReplicatePlan): string[] {
  const lines = [`${plan.source} -> ${plan.target}: ${plan.reason}`];
  if (plan.renameTarget !== undefined) lines.push(`rename ${plan.target} -> ${plan.renameTarget.to}`);
  if (plan.rollback !== undefined) {
    const { to, destroys } = plan.rollback;
    const losing = destroys.length > 0 ? `, destroying ${destroys.map(shortName).join(', ')}` : ' (discarding changes made since)';
    lines.push(`rollback ${plan.target} to ${shortName(to)}${losing}`);
  }
  plan.steps.forEach((step, index) => {
    const forced = index === 0 && step.from === undefined && plan.forceFullReceive === true;
    lines.push(describeStep(step) + (forced ? ` (into existing ${plan.target}, recv -F)` : ''));
  });
  return lines;
}

export function describeStep(step: Step): string {
  if (step.from === undefined) return `full  ${step.to.fullName}`;
  if (!step.intermediates) return `incr  ${step.from.fullName} -> ${shortName(step.to)}`;
  return `incr -I ${step.from.fullName} -> ${shortName(step.to)} (${step.snapshots.length} snapshots)`;
}
