import { UsageError } from './errors.js';

/** Splits a `--remote-cmd` string into words; single and double quotes group. */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) words.push(match[1] ?? match[2] ?? match[3] ?? '');
  if (words.length === 0) throw new UsageError('--remote-cmd is empty');
  return words;
}
