/**
 * What a test leaves behind is released after it, even when it failed: every timer, listener
 * and process a helper creates registers its release here, and the global afterEach
 * (test/setup/after-each.ts) runs them all. Without this, a failed test's pending 10 s
 * `onceEvent` timer fired later inside another suite, which then "failed to run".
 */

type Release = () => void;

/** Releases registered and not yet run, in creation order. */
const releases = new Set<Release>();

/**
 * Registers `release` to run after the current test. Returns a function that runs it at once
 * and unregisters it (call it when the resource is done with, so the registry stays small).
 */
export function onCleanup(release: Release): () => void {
  let isDone = false;
  const once = () => {
    if (isDone) return;
    isDone = true;
    releases.delete(once);
    release();
  };
  releases.add(once);
  return once;
}

/**
 * Runs every registered release in creation order (a primary process is killed before the
 * workers it printed, so it cannot fork new ones); one that throws does not stop the others.
 */
export function cleanUp(): void {
  for (const release of [...releases]) {
    try {
      release();
    } catch {
      // a release must never fail the next one: the resource is gone already
    }
  }
  releases.clear();
}
