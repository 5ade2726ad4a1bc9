/** A job's `filesystems` read from the parsed YAML, when every key and value is valid. */
import { parseFilterKey, type FilterRuleCore } from './filesystem-filter.js';
import { isRawMap } from './raw.js';

export function rawFilterRules(filesystems: unknown): FilterRuleCore[] | undefined {
  if (!isRawMap(filesystems)) return undefined;
  const rules: FilterRuleCore[] = [];
  for (const [key, include] of Object.entries(filesystems)) {
    const parsed = parseFilterKey(key);
    if ('problem' in parsed || typeof include !== 'boolean') return undefined;
    rules.push({ ...parsed, include });
  }
  return rules;
}
