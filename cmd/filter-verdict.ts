/**
 * Why a job's `filesystems` filter selects a filesystem or not, in words a user can check
 * against the file: the deciding rule as written, where it stands (FILE:LINE:COLUMN), and
 * whether it was the only rule that matched or the most specific of several. A pull from a
 * local source job passes two filters (the source's, then its own): both must select. Pure.
 */
import { selectFilesystem } from '../config/filesystem-filter.js';
import type { FilesystemFilterRule } from '../config/types.js';

/** One filter a filesystem passes through, with what to call it when there are several. */
export interface NamedFilter {
  /** `source job "srv"`; absent when it is the only filter. */
  label?: string;
  rules: readonly FilesystemFilterRule[];
}

export interface FilterVerdict {
  filesystem: string;
  selected: boolean;
  reason: string;
  /** The rule that decided (of the filter that refused it, else of the last one). */
  rule?: { pattern: string; include: boolean; file: string; line: number; column: number };
}

interface SingleVerdict {
  selected: boolean;
  reason: string;
  rule?: FilesystemFilterRule;
}

function judgeOne(rules: readonly FilesystemFilterRule[], name: string): SingleVerdict {
  const selection = selectFilesystem(rules, name);
  const rule = selection.rule;
  if (rule === undefined) return { selected: false, reason: 'no rule matches it' };
  // The rules that match on their own: selectFilesystem decides among them.
  const matching = rules.filter((candidate) => selectFilesystem([candidate], name).rule !== undefined).length;
  const { file, line, column } = rule.position;
  const which = matching === 1 ? 'the only rule that matches' : `the most specific of the ${matching} rules that match`;
  return { selected: selection.selected, rule, reason: `${JSON.stringify(rule.pattern)}: ${String(rule.include)} (${file}:${line}:${column}), ${which}` };
}

export function judgeFilesystem(filters: readonly NamedFilter[], name: string): FilterVerdict {
  const verdicts = filters.map((filter) => ({ label: filter.label, ...judgeOne(filter.rules, name) }));
  const refusal = verdicts.find((verdict) => !verdict.selected);
  const decisive = refusal ?? verdicts[verdicts.length - 1];
  const told = (refusal === undefined ? verdicts : [refusal]).map((verdict) =>
    verdict.label === undefined ? verdict.reason : `${verdict.label}: ${verdict.reason}`,
  );
  const rule = decisive?.rule;
  return {
    filesystem: name,
    selected: refusal === undefined && verdicts.length > 0,
    reason: told.join('; '),
    ...(rule === undefined
      ? {}
      : { rule: { pattern: rule.pattern, include: rule.include, file: rule.position.file, line: rule.position.line, column: rule.position.column } }),
  };
}
