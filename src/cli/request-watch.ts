/**
 * What `clusterkit stop|reload|scale <name>` says while it waits on the primary: these may run
 * for minutes (a stop drains up to its shutdown timeout), so no time limit ends the wait; but a
 * primary that has not even read the request within the time `status` gives it (its process
 * stopped by `kill -STOP`, its event loop blocked) is named once on stderr, with what is known
 * of it, and the command waits on (H443). On SIGINT or SIGTERM the command says in one line
 * whether the operation goes on in the primary, and then dies of the signal as before (H444).
 */
import type { RequestHooks } from '../control/request-once.js';
import { formatElapsed } from '../duration.js';
import { RemoteError } from '../errors.js';
import { shellWord } from '../shell-word.js';
import { silentPrimary, silentPrimaryState } from './silent-primary.js';
import { kStatusTimeoutMs } from './report-unanswered.js';

/** Where the request is: not sent (or refused: nothing runs), written but unread, read and running, answered. */
type Phase = 'not-sent' | 'sent' | 'accepted' | 'answered';

export type WatchedCommand = 'stop' | 'reload' | 'scale';

/** Watches one command's requests to the cluster `name`, from its start to `end()`. */
export class RequestWatch {
  #phase: Phase = 'not-sent';
  #timer: NodeJS.Timeout | undefined;
  #isNoted = false;
  readonly #startedAt = Date.now();
  readonly #onSignal = (signal: NodeJS.Signals) => this.#interrupted(signal);

  /** `windowMs`: how long the primary has to read the request before the note (`status`'s wait). */
  constructor(
    readonly name: string,
    readonly command: WatchedCommand,
    readonly windowMs = kStatusTimeoutMs,
    readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
    // From the command's start: `reload` and a relative `scale` ask for the status first.
    this.#arm();
  }

  /**
   * Sends the command's own request with `send(hooks)` (pass them to controlRequest). A refusal
   * leaves nothing running: the phase goes back to not sent (a reload waiting for the start).
   */
  async request<T>(send: (hooks: RequestHooks) => Promise<T>): Promise<T> {
    this.#arm();
    try {
      const result = await send({ onSent: () => this.#sent(), onAccepted: () => this.#accepted() });
      this.#phase = 'answered';
      return result;
    } catch (error) {
      this.#phase = error instanceof RemoteError ? 'not-sent' : this.#phase;
      throw error;
    } finally {
      this.#disarm();
    }
  }

  /** The command is done: no note, no signal handling. */
  end(): void {
    this.#disarm();
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#isNoted) return;
    this.#timer = setTimeout(() => this.#note(), this.windowMs);
    this.#timer.unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #sent(): void {
    if (this.#phase === 'not-sent') this.#phase = 'sent';
  }

  #accepted(): void {
    this.#phase = 'accepted';
    this.#disarm();
    if (this.#isNoted) this.write(`clusterkit: ${this.name}'s primary read the "${this.command}" after ${formatElapsed(Date.now() - this.#startedAt)}; it runs now.`);
  }

  /** Once: the primary has not read the request (or the status asked before it) within the window. */
  #note(): void {
    this.#timer = undefined;
    if (this.#phase === 'accepted' || this.#phase === 'answered') return;
    this.#isNoted = true;
    const silent = silentPrimary(this.name);
    const primary = `${this.name}'s primary${silent.pid === undefined ? '' : ` (pid ${silent.pid})`}`;
    const seconds = formatElapsed(this.windowMs);
    const why = silent.isStopped ? silentPrimaryState(silent) : `${silentPrimaryState(silent)}; look at its logs`;
    this.write(
      this.#phase === 'sent'
        ? `clusterkit: ${primary} has not read the "${this.command}" request in ${seconds}: ${why}. Still waiting, with no time limit (a ${this.command} may take long); Ctrl-C ends the wait, not the ${this.command}: the primary runs it once it reads the request.`
        : `clusterkit: ${primary} has not answered in ${seconds}, so the "${this.command}" is not sent yet: ${why}. Still waiting, with no time limit; Ctrl-C gives up, and nothing is asked of it.`,
    );
  }

  /** SIGINT or SIGTERM: one line on what becomes of the operation, then death by the signal, as without this watch. */
  #interrupted(signal: NodeJS.Signals): void {
    this.end();
    const status = `clusterkit status ${shellWord(this.name)}`;
    const words: Record<Phase, string> = {
      'not-sent': `the "${this.command}" was not sent: nothing was asked of ${this.name}.`,
      sent: `the "${this.command}" request was sent, but ${this.name}'s primary has not read it yet: it runs it once it reads it (${status} shows what it did).`,
      accepted: `the ${this.command} goes on in ${this.name}'s primary; ${status} shows it.`,
      answered: `the ${this.command} was done; ${this.name}'s primary may still be exiting.`,
    };
    this.write(`clusterkit: stopped waiting (${signal}); ${words[this.#phase]}`);
    process.kill(process.pid, signal);
  }
}
