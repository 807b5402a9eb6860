/**
 * "Did you mean ...?" for a mistyped command, option or config key: the closest candidate
 * within an edit distance of 2.
 */

/** The candidate nearest to `typed`, or undefined when none is within `maxDistance` edits (2). */
export function closest(typed: string, candidates: readonly string[], maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const found = distance(candidate.toLowerCase(), typed.toLowerCase());
    if (found < bestDistance) {
      best = candidate;
      bestDistance = found;
    }
  }
  return best;
}

/** Levenshtein distance; inputs here are short (names and keys), so O(a*b) is fine. */
export function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * The name (an app's, a cluster's) nearest to `typed`, within a distance that grows with the
 * typed name's length, as git's "did you mean" does: one edit up to 5 characters, two from 6
 * (max(1, floor(length / 3)), at most the 2 of `closest`). Retest t85 #7: any 2-character name is
 * two edits from any other, so `clusterkit stop ap` with "db" running asked `Did you mean "db"?`.
 */
export function closestName(typed: string, names: readonly string[]): string | undefined {
  return closest(typed, names, Math.min(2, Math.max(1, Math.floor(typed.length / 3))));
}
