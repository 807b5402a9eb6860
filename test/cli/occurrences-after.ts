/**
 * Patterns for a watch's output, which grows by a frame every few milliseconds and is matched
 * again on every chunk (`Spawned.waitFor`).
 */

/**
 * Matches once `text` occurs `count` times after the first `from` characters. Anchored, and each
 * occurrence matched up to the next one only, so a check costs time linear in the output. The
 * unanchored `[^]{from}(?:[^]*?text){10}` it replaces was tried from every start and backtracked
 * over every choice of occurrences: a check of 40 KB with 9 occurrences took seconds, so under
 * load the test process spent minutes in it (a 607 s file run), its timers and the socket
 * listeners it holds starved, and the watch blocked writing to the full pipe.
 */
export function occurrencesAfter(from: number, text: string, count: number): RegExp {
  const literal = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^[^]{${from}}(?:(?:(?!${literal})[^])*${literal}){${count}}`);
}
