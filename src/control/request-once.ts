/**
 * One request over a fresh connection to a control socket (control-client.ts uses it).
 */
import net from 'node:net';
import { RemoteError } from '../errors.js';
import { parseStripped } from './control-chars.js';
import { type ControlRequest, type ControlResponse, kMaxLineBytes, type OptionNames, readLines } from './control-protocol.js';
import { ownLimitWords, unanswered } from './unanswered.js';
import { readStopRecord, recordBeside } from './stop-record.js';

/** What a caller learns of a request before its answer (`requestOnce`). */
export interface RequestHooks {
  /** The request is written to the connection (a stopped primary's socket takes it still, unread). */
  onSent?(): void;
  /** The primary read the request and runs it (`ack: true`, and a primary that acknowledges). */
  onAccepted?(): void;
}

/**
 * How every answer of a clusterkit primary begins (`JSON.stringify` of `{ id, ok, ... }`, the
 * refusal of a connection included): bytes that cannot begin it are not the protocol.
 */
const kAnswerHead = '{"id":';

/**
 * One request over a fresh connection to `path`. Connection errors reject with the socket's
 * own error (its `code` tells ENOENT/ECONNREFUSED apart); without `timeoutMs` it waits as long
 * as the connection stays open (a reload may take minutes). Reading stops, and the connection
 * closes, at the first byte that cannot begin an answer, or past 1 MiB in one line (H83). Once
 * `signal` aborts, it rejects with a `not-asked` `ControlSocketError` and closes the connection.
 * Every string of the answer has its control characters removed (control-chars.ts), unless
 * `keepControlChars`: then a result keeps them, for a caller that escapes or quotes what it prints
 * (`show`, H279); an error answer is stripped still. `hooks`: `onSent` once the request is
 * written; `onAccepted` at the primary's acceptance of a request with `ack` (`ControlAcceptance`).
 */
export function requestOnce(
  path: string,
  request: ControlRequest,
  timeoutMs?: number,
  signal?: AbortSignal,
  keepControlChars = false,
  hooks: RequestHooks = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let isSettled = false;
    const onAbort = () => settle(unanswered('not-asked', `clusterkit stopped asking ${path} for "${request.command}".`));
    const settle = (error: Error | undefined, result?: unknown) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(result);
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            settle(unanswered('timeout', `The cluster at ${path} did not answer "${request.command}" within ${timeoutMs} ms; its primary may be blocked.`, undefined, { waitedMs: timeoutMs }));
          }, timeoutMs);
    // What came is never quoted: a hostile listener's bytes could be terminal escapes. Reading
    // stops at the first byte that cannot begin an answer (H83): junk is not read for seconds.
    const notProtocol = (what: string) =>
      unanswered('not-protocol', `The process listening on ${path} answered "${request.command}" with ${what}, which is not the clusterkit control protocol; it may not be a clusterkit primary.`, undefined, { what });
    let isAnyByte = false;
    /** The primary acknowledged the request (`ack`): bytes that came were its, and a close after them is a close (review: a primary that exited or was killed after it, said "not the clusterkit control protocol"). */
    let isAccepted = false;
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      isAnyByte = true;
      if (head.length >= kAnswerHead.length) return;
      head = (head + chunk.subarray(0, kAnswerHead.length + 16).toString('latin1')).trimStart().slice(0, kAnswerHead.length);
      if (!kAnswerHead.startsWith(head)) settle(notProtocol('bytes that cannot begin an answer (clusterkit closed the connection at once)'));
    });
    if (signal?.aborted) queueMicrotask(onAbort);
    else signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`, (error) => error || isSettled || hooks.onSent?.()));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // This process's own limit, not the peer's fault: say so, never blame the cluster (F3).
      const words = ownLimitWords(error.code);
      settle(words === undefined ? error : unanswered('own-limit', `clusterkit could not open a connection to ${path}: ${words}.`, error));
    });
    socket.once('close', () =>
      settle(
        isAnyByte && !isAccepted
          ? notProtocol('bytes that hold no answer to it')
          : unanswered(
              'closed',
              // A stop's primary also exits unanswered when a stop signal forces the stop (a second
              // SIGTERM, Ctrl-C): it kills every worker and exits at once (retest t60: "may have crashed").
              `The cluster at ${path} closed the control connection before it answered "${request.command}"; its primary ${request.command === 'stop' ? unansweredStop(path) : 'may have crashed'}.`,
            ),
      ),
    );
    readLines(
      socket,
      (line) => {
        const response = parseResponse(line, keepControlChars);
        // Every line of a clusterkit primary is a JSON object: anything else is another program's.
        if (!response) return settle(notProtocol('a line that is not a JSON object'));
        // Not the answer: the primary says it read the request and runs it; the answer follows.
        if (request.ack === true && response.id === request.id && !('ok' in response) && (response as { accepted?: unknown }).accepted === request.command) {
          isAccepted = true;
          return void hooks.onAccepted?.();
        }
        // Id 0: the server refused the connection itself (too many connections) or the request.
        if (response.id !== request.id && !(response.id === 0 && !response.ok)) return;
        if (response.ok) settle(undefined, response.result);
        else settle(remoteError(request.command, path, response.error));
      },
      () => settle(notProtocol(`more than ${kMaxLineBytes / (1024 * 1024)} MiB in one line, more than an answer may be (clusterkit stopped reading and closed the connection)`)),
    );
  });
}

function parseResponse(line: string, keepControlChars: boolean): ControlResponse | undefined {
  try {
    // A refusal's text is printed as it is: stripped even when the result is kept whole.
    const response = (keepControlChars ? JSON.parse(line) : parseStripped(line)) as ControlResponse | null;
    if (keepControlChars && response !== null && typeof response === 'object' && !response.ok) return parseStripped(line) as ControlResponse;
    return typeof response === 'object' && response !== null ? response : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An answer's error, whatever its shape: a server of another version may differ. How its
 * message names the primary's options, when the primary says (H359), is the error's
 * `data.optionNames` (`optionNamesOf`).
 */
export function remoteError(command: string, path: string, error: unknown): RemoteError {
  const body = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const optionNames = body.optionNames === 'api' || body.optionNames === 'flags' ? body.optionNames : undefined;
  return new RemoteError(command, `the primary at ${path}`, {
    name: typeof body.name === 'string' ? body.name : 'Error',
    message: typeof body.message === 'string' ? body.message : 'no reason given',
    code: typeof body.code === 'string' ? body.code : undefined,
    ...(optionNames === undefined ? {} : { data: { optionNames } }),
  });
}

/** How a control answer's error names the primary's options (`remoteError`); undefined from an older primary, or for another error. */
export function optionNamesOf(error: RemoteError): OptionNames | undefined {
  const names = error.data?.optionNames;
  return names === 'api' || names === 'flags' ? names : undefined;
}

/**
 * Why a stop went unanswered, as far as the primary's stop record says (it writes it as it exits):
 * a stop signal during the shutdown forced it, named; else it crashed or was killed (retest t61 L6: "a stop
 * signal forced it, or it crashed", when the record could tell).
 */
function unansweredStop(socketPath: string): string {
  const record = readStopRecord(recordBeside(socketPath));
  if (record?.forced !== undefined) return `exited before the stop finished: a ${record.forced} during the shutdown forced the stop (its workers were killed; its log says "forced the stop")`;
  return 'exited before the stop finished: it crashed or was killed, or a stop signal forced the stop (its log says which)';
}
