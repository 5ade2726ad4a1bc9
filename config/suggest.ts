/** "did you mean": the closest of the known words to a misspelt one, if it is close enough. */

/** Edits (insert, delete, substitute, swap two neighbours) to turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/** Case, `-` for `_` and the like are not what tells two keys apart. */
function normalized(word: string): string {
  return word.toLowerCase().replace(/[-\s]/g, '_');
}

/**
 * The known word closest to `word`, when at most about a third of it differs (a third: a typo
 * or two in a long key, one in a short one, never a different word of the same length).
 */
export function closest(word: string, known: readonly string[]): string | undefined {
  const target = normalized(word);
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(target, normalized(candidate));
    if (best === undefined || distance < best.distance) best = { word: candidate, distance };
  }
  if (best === undefined || best.distance === 0) return best?.word === word ? undefined : best?.word;
  return best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.word : undefined;
}

/** ` (did you mean 'x'?)`, or nothing. */
export function didYouMean(word: string, known: readonly string[]): string {
  const suggestion = closest(word, known);
  return suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
}
