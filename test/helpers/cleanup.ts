/**
 * What a test leaves behind is released after it, even when it failed: every timer, listener
 * and process a helper creates registers its release here, and the global hooks
 * (test/setup/after-each.ts) run them. Without this, a failed test's pending 10 s `onceEvent`
 * timer fired later inside another suite, which then "failed to run".
 *
 * Two scopes: what is created inside a test (or its beforeEach) is released after that test;
 * what is created outside one (a beforeAll that starts a process every test of the file
 * queries) is released after the file, not after its first test.
 */

type Release = () => void;

/** Releases registered and not yet run, in creation order, per scope. */
const testReleases = new Set<Release>();
const fileReleases = new Set<Release>();
/** True from the global beforeEach to the end of the global afterEach. */
let isInTest = false;

/**
 * Registers `release` to run after the current test (after the file, when called outside a
 * test). Returns a function that runs it at once and unregisters it (call it when the resource
 * is done with, so the registry stays small).
 */
export function onCleanup(release: Release): () => void {
  const scope = isInTest ? testReleases : fileReleases;
  let isDone = false;
  const once = () => {
    if (isDone) return;
    isDone = true;
    scope.delete(once);
    release();
  };
  scope.add(once);
  return once;
}

/** Called by the global beforeEach: from now on, releases belong to the test. */
export function beginTest(): void {
  isInTest = true;
}

/** Called by the global afterEach, once the test's releases ran: releases go to the file again. */
export function endTest(): void {
  isInTest = false;
}

/**
 * Runs every release registered in the test (`scope: 'file'`: outside any test) in creation
 * order (a primary process is killed before the workers it printed, so it cannot fork new
 * ones); one that throws does not stop the others.
 */
export function cleanUp(scope: 'test' | 'file' = 'test'): void {
  const releases = scope === 'test' ? testReleases : fileReleases;
  for (const release of [...releases]) {
    try {
      release();
    } catch {
      // a release must never fail the next one: the resource is gone already
    }
  }
  releases.clear();
}
