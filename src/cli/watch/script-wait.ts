/**
 * The watch's wait for the script being run while it does not exist (H271, H520): a reload
 * then could only fail (`Cannot find module`), so none starts, whatever asks for one (the quiet
 * time, the maximum wait, a reload queued during another), until the script is back.
 *
 * A change the watch tells of ends the wait once the script exists again; the script is also
 * looked for every `kScriptPollMs`, as its return may come with no event: a script outside the
 * watched paths (`run server.js --watch src`), or one written while a root was being watched
 * afresh after `rm -rf dist` (chokidar's first scan of the new folder tells of nothing).
 */
import { statSync } from 'node:fs';

/** How often a missing script is looked for (ms): one stat, only while a reload waits for it. */
export const kScriptPollMs = 250;

export class ScriptWait {
  readonly #script: string;
  readonly #back: () => void;
  /** Looks for the script; set while a reload waits for it, cleared once it is back (or the watch closes). */
  #poll: NodeJS.Timeout | undefined;
  /** The missing script was said during this absence: said once each time it goes. */
  #isSaid = false;

  /** `script` absolute; `back` is told when the poll finds it again (a change that finds it is told by `noticeBack`). */
  constructor(script: string, back: () => void) {
    this.#script = script;
    this.#back = back;
  }

  /** Whether a reload waits for the script. */
  get isWaiting(): boolean {
    return this.#poll !== undefined;
  }

  /** Whether nothing is at the script's path now. */
  isMissing(): boolean {
    try {
      return statSync(this.#script, { throwIfNoEntry: false }) === undefined;
    } catch {
      // Unreadable (EACCES, ENOTDIR on a path through a file): a worker could not load it either.
      return true;
    }
  }

  /** Starts waiting (the script is missing); idempotent. */
  wait(): void {
    if (this.#poll !== undefined) return;
    this.#poll = setInterval(() => {
      if (this.isMissing()) return;
      this.end();
      this.#back();
    }, kScriptPollMs);
    // The wait alone must not keep `clusterkit run` alive.
    this.#poll.unref();
  }

  /** Whether the missing script is yet to be said during this absence; true once. */
  isToBeSaid(): boolean {
    if (this.#isSaid) return false;
    this.#isSaid = true;
    return true;
  }

  /** A change came: ends the wait when the script is back. Returns whether it did. */
  noticeBack(): boolean {
    if (this.#poll === undefined || this.isMissing()) return false;
    this.end();
    return true;
  }

  /** The script is there (the reload starts), or the watch closes: no wait, and its next absence is said again. */
  end(): void {
    if (this.#poll !== undefined) clearInterval(this.#poll);
    this.#poll = undefined;
    this.#isSaid = false;
  }
}
