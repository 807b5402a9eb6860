/**
 * The health endpoint's `/metrics` answers, under the process's budget of unsent answer bytes
 * (unsent-budget.ts, H607): a scrape whose answer would go past it gets 503 and its connection
 * closed, a connection that has not taken its answer by the deadline is reset, and both are told
 * in the primary's log, as refused sticky connections are: the first at once, then at most one
 * line per 10 s counting those since. Without the lines, a scraper's 503 or reset would be the
 * only trace of clients that hold the primary's memory.
 */
import type { ServerResponse } from 'node:http';
import { formatBytes } from '../../format-bytes.js';
import type { Logger } from '../../logger.js';
import { countLatest, RateLimitedWarning, type Counted } from '../pool/rate-limited-warning.js';
import { UnsentBudget } from './unsent-budget.js';
import { kMetricsMerge, type OwnWork } from '../lifecycle/own-work.js';

/**
 * The answers of every health endpoint of the process: one budget, the memory being the
 * process's. Exported for tests, which shorten its deadline.
 */
export const healthAnswers = new UnsentBudget();

/** Connections that got a 503 already: those pipelined behind it are not counted as more scrapes. */
const refusedConnections = new WeakSet<object>();

/** What the budget refused or reset: the answer's bytes, and the bytes unsent then. */
interface SendTrouble {
  answerBytes: number;
  unsentBytes: number;
}

/** One endpoint's `/metrics` answers; `lines` (the primary's logger) gets its warnings. */
export class MetricsAnswers {
  readonly #refused: RateLimitedWarning<Counted<SendTrouble>>;
  readonly #late: RateLimitedWarning<Counted<SendTrouble>>;

  /** `ownWork`: where the answers' writing is noted as clusterkit's own work (H627); none in tests. */
  constructor(
    port: number,
    lines: Pick<Logger, 'warn'> | undefined,
    private readonly ownWork?: OwnWork,
  ) {
    const more = (count: number, what: string) => (count > 1 ? ` (${count} such ${what} since the last such line)` : '');
    const deadline = () => `${healthAnswers.deadlineMs / 1000} s`;
    const fields = (count: number, { answerBytes, unsentBytes }: SendTrouble) => ({ port, count, answerBytes, unsentBytes, maxUnsentBytes: healthAnswers.maxBytes });
    this.#refused = new RateLimitedWarning(countLatest, ({ count, latest }) =>
      lines?.warn(
        fields(count, latest),
        `health endpoint on port ${port}: a /metrics scrape refused (503): ${formatBytes(latest.unsentBytes)} of answers wait for clients that have not taken them yet, and one more of ${formatBytes(latest.answerBytes)} would pass the ${formatBytes(healthAnswers.maxBytes)} the primary holds at most; ` +
          `clients of this port read their answers slowly or not at all, or scrape many times at once (a connection that has not taken its answer within ${deadline()} is reset)${more(count, 'scrapes')}`,
      ),
    );
    this.#late = new RateLimitedWarning(countLatest, ({ count, latest }) =>
      lines?.warn(
        fields(count, latest),
        `health endpoint on port ${port}: reset a connection that had not taken its ${formatBytes(latest.answerBytes)} /metrics answer within ${deadline()}, to free it; ` +
          `a scraper this slow has given up already (Prometheus' scrape_timeout is 10 s by default): a client of this port sends scrapes and does not read the answers${more(count, 'connections')}`,
      ),
    );
  }

  /**
   * Whether a scrape is worth collecting: false, and `response` answered 503, while one more
   * answer as large as the last would not fit (a flood of scrapes then costs no collection).
   */
  admit(response: ServerResponse): boolean {
    if (healthAnswers.fits(healthAnswers.lastBytes)) return true;
    this.#refuse(response, healthAnswers.lastBytes);
    return false;
  }

  /** Writes `text` as the answer to `response` (no body for a HEAD), or 503 when it does not fit now. */
  send(response: ServerResponse, text: string, isHead: boolean): void {
    const bytes = isHead ? 0 : Buffer.byteLength(text);
    const onLate = () => this.#late.note({ count: 1, latest: { answerBytes: bytes, unsentBytes: healthAnswers.unsent } });
    if (!healthAnswers.take(response, bytes, onLate)) return this.#refuse(response, bytes);
    const startAt = Date.now();
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
    // A large page copied out to many scrapers at once is clusterkit's work too (retest t63).
    this.ownWork?.note(kMetricsMerge, startAt, Date.now());
  }

  /** Tells what is held for a trailing line now: its timer is unref'd, and the endpoint is closing. */
  flush(): void {
    this.#refused.flush();
    this.#late.flush();
  }

  /**
   * 503, with when to retry and why, and the connection closed: its client may be one that does
   * not read. Counted once per connection: the requests pipelined behind the first refusal are
   * never answered, as its `Connection: close` ends the connection (hostile tester t61b: 20
   * connections of 8 pipelined scrapes were told as 151 refused scrapes, with about 10 503s sent).
   */
  #refuse(response: ServerResponse, answerBytes: number): void {
    const unsentBytes = healthAnswers.unsent;
    // The request's: a pipelined request's response has no socket until those before it are sent.
    const socket = response.req.socket;
    if (!refusedConnections.has(socket)) this.#refused.note({ count: 1, latest: { answerBytes, unsentBytes } });
    refusedConnections.add(socket);
    // By then every answer counted now is sent whole or its connection reset.
    const retryS = Math.ceil(healthAnswers.deadlineMs / 1000);
    const body =
      `/metrics refused: ${formatBytes(unsentBytes)} of earlier answers are still unsent to clients that have not taken them yet, and this one (${formatBytes(answerBytes)}) would pass the ${formatBytes(healthAnswers.maxBytes)} the primary holds at most. ` +
      `Retry in ${retryS} s: by then each of them is sent or its connection reset. Clients of this port that read their answers slowly or not at all, or many scrapes at once, cause this.\n`;
    response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'retry-after': String(retryS), connection: 'close' });
    response.end(body);
  }
}
