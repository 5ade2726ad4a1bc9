/**
 * Reading the parsed YAML before it is validated: the checks that span several keys run on it
 * whatever else is wrong, so every reader here expects anything and answers undefined for
 * what it cannot use.
 */

export type RawMap = Record<string, unknown>;

export function isRawMap(value: unknown): value is RawMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hasKey(map: RawMap, key: string): boolean {
  return Object.hasOwn(map, key);
}

export function rawString(map: RawMap | undefined, key: string): string | undefined {
  const value = map?.[key];
  return typeof value === 'string' ? value : undefined;
}

export function rawMap(map: RawMap | undefined, key: string): RawMap | undefined {
  const value = map?.[key];
  return isRawMap(value) ? value : undefined;
}

/** The jobs list with each entry's index (entries that are not maps left out). */
export function rawJobs(root: unknown): { index: number; job: RawMap }[] {
  const jobs = isRawMap(root) ? root.jobs : undefined;
  if (!Array.isArray(jobs)) return [];
  return jobs.flatMap((job: unknown, index) => (isRawMap(job) ? [{ index, job }] : []));
}
