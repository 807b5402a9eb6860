/**
 * What `clusterkit logs <name>` says while its primary has not answered (H509), in the words of
 * request-watch.ts: the request has no time limit (a frozen primary may be resumed, and its lines
 * then print), but a primary that has not answered within the 5 s `status` gives it is named
 * once on stderr, with its pid and whether its process is stopped (kill -STOP, a debugger) or
 * may be blocked. Interrupted (SIGINT, SIGTERM) before the answer, the command says so in one
 * line and dies of the signal, as `stop` and `reload` do; not the words of a primary that closed
 * the connection (before, Ctrl-C read as `closed the control connection before it answered`).
 */
import { formatElapsed } from '../../duration.js';
import { shellWord } from '../../shell-word.js';
import { kStatusTimeoutMs } from '../report-unanswered.js';
import { silentPrimary, silentPrimaryState } from '../silent-primary.js';

export class LogsWait {
  #timer: NodeJS.Timeout | undefined;
  #isNoted = false;
  #isHeard = false;
  readonly #startedAt = Date.now();

  /** `windowMs`: how long the primary has to answer before the note (`status`'s wait). */
  constructor(
    readonly name: string,
    readonly windowMs = kStatusTimeoutMs,
    readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.#timer = setTimeout(() => this.#note(), windowMs);
    this.#timer.unref();
  }

  /** Whether the primary has sent anything (a line of its buffer, its answer, a refusal). */
  get isHeard(): boolean {
    return this.#isHeard;
  }

  /** The primary sent its first message: no note from now on; one line if the note was given. */
  heard(): void {
    if (this.#isHeard) return;
    this.#isHeard = true;
    this.end();
    if (this.#isNoted) this.write(`clusterkit: ${this.name}'s primary answered "logs" after ${formatElapsed(Date.now() - this.#startedAt)}.`);
  }

  /** The command is done (or the primary answered): no note. */
  end(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One line, for a `signal` that came before the primary answered. */
  interrupted(signal: NodeJS.Signals): void {
    this.end();
    const { primary, why } = this.#primary();
    this.write(
      `clusterkit: stopped waiting (${signal}); ${primary} had not answered the "logs" request in ${formatElapsed(Date.now() - this.#startedAt)}: ${why}. ` +
        `Nothing was asked of it but its lines; "clusterkit logs ${shellWord(this.name)}" shows them once it answers.`,
    );
  }

  #note(): void {
    this.#timer = undefined;
    if (this.#isHeard) return;
    this.#isNoted = true;
    const { primary, why } = this.#primary();
    this.write(
      `clusterkit: ${primary} has not answered the "logs" request in ${formatElapsed(this.windowMs)}: ${why}. ` +
        'Still waiting, with no time limit: its lines print once it answers; Ctrl-C gives up.',
    );
  }

  /** `api's primary (pid 48200)` and, read from /proc now, what its process is doing. */
  #primary(): { primary: string; why: string } {
    const silent = silentPrimary(this.name);
    return { primary: `${this.name}'s primary${silent.pid === undefined ? '' : ` (pid ${silent.pid})`}`, why: silentPrimaryState(silent) };
  }
}
