/**
 * The control protocol: newline-delimited JSON over a Unix socket. A client writes one request
 * object per line and gets one response per request, matched by `id`.
 *
 *   → {"id":1,"command":"scale","count":4}
 *   ← {"id":1,"ok":true,"result":{...}}
 *   ← {"id":2,"ok":false,"error":{"name":"ReloadError","code":"ERR_RELOAD_FAILED","message":"..."}}
 */
import type { LastReload } from './last-reload.js';
import { StringDecoder } from 'node:string_decoder';
import type { PrimaryState } from '../primary/lifecycle/primary-lifecycle.js';
import type { StoreStats } from '../primary/features/store-stats.js';
import type { FailingSlotStats, GivenUpSlotStats } from '../primary/features/given-up-stats.js';
import type { WorkerStats } from '../primary/features/worker-stats.js';
export type { ClusterEvent, ClusterEventType, EventsPage } from './event-log.js';
export type { ClusterDescription, ClusterSettings } from './cluster-settings.js';

/** Longest request or response line accepted; a status with hundreds of workers fits easily. */
export const kMaxLineBytes = 1024 * 1024;

/**
 * A primary refuses a command it does not know with `ERR_INVALID_ARGUMENT` ("Unknown control
 * command"): a client of a newer clusterkit reads that as an older primary (`describe` came later).
 */
export type ControlCommand = 'status' | 'describe' | 'reload' | 'stop' | 'scale' | 'logs' | 'events';

export interface ControlRequest {
  id: number;
  command: ControlCommand;
  /** For `scale`: the number of workers wanted. */
  count?: number;
  /**
   * For `reload` (PM2's `--update-env`, H336): the primary loads the app's settings files again
   * (its config file, its env files) and the new workers start with the env they give now.
   */
  updateEnv?: boolean;
  /** For `logs` (see log-protocol.ts): buffered lines to send, whether to follow, one worker's or one slot's only. */
  lines?: number;
  follow?: boolean;
  workerId?: number;
  slot?: number;
  output?: 'stdout' | 'stderr';
  /** For `events`: the `seq` of the last event the reader has (0 for all); see `EventsPage`. */
  after?: number;
  /**
   * For `stop`, `reload` and `scale`, which may take minutes: `true` asks the primary to say at
   * once that it read the request and runs it (`ControlAcceptance`), before the answer, so a
   * client tells a long run from a primary that reads nothing (stopped, blocked). A primary of an
   * older clusterkit refuses the field (ERR_INVALID_ARGUMENT, `does not take "ack"`) and runs nothing.
   */
  ack?: boolean;
}

/** The commands that take `ack` (`ControlRequest.ack`). */
export const kAcknowledged: ReadonlySet<ControlCommand> = new Set<ControlCommand>(['stop', 'reload', 'scale']);

/**
 * The line a primary writes, before the answer, for a request with `ack: true`: it read the
 * request and runs it. No `ok` field: it is no answer, and the answer follows with the same id.
 *
 *   → {"id":3,"command":"stop","ack":true}
 *   ← {"id":3,"accepted":"stop"}
 *   ← {"id":3,"ok":true,"result":{...}}
 */
export interface ControlAcceptance {
  id: number;
  accepted: ControlCommand;
}

/** What `clusterkit status` shows for one cluster. */
export interface ClusterStatus {
  name: string;
  pid: number;
  /**
   * The primary's state; `waiting` under `clusterkit run --watch` once every slot gave up in a
   * crash loop: the primary runs with no worker until a change or a reload starts them (H333).
   * `restarting` while the primary runs but no worker is ready and some slot is failing in a
   * crash loop, not given up yet (`failingSlots`): the service is down until a restart comes up
   * (H396: it said `running`). Absent from older primaries, which said `running` then.
   */
  state: PrimaryState | 'waiting' | 'restarting';
  /** With `state: 'waiting'`: what it waits for, in a sentence. */
  waiting?: string;
  startedAt: number;
  uptimeMs: number;
  /** The script (CLI) or worker module (runner) the workers run. */
  script: string;
  /** The working directory of the primary and its workers (absent from older primaries). */
  cwd?: string;
  /** How many workers the cluster is meant to run (changed by `scale`). */
  targetWorkers: number;
  /** The most workers `scale` may ask for (the `maxWorkers` option, fixed at start; absent from older primaries). */
  maxWorkers?: number;
  nodeVersion: string;
  workers: WorkerStats[];
  /** Slots given up in a crash loop, not restarted (`primary.givenUpSlots()`; absent from older primaries). */
  givenUpSlots?: GivenUpSlotStats[];
  /**
   * Slots failing in a crash loop, not given up yet (`primary.failingSlots()`, H396): each with
   * its exits in a row, its last failure and, waiting out the backoff, when it restarts. Absent from older primaries.
   */
  failingSlots?: FailingSlotStats[];
  /** The live workers ready to serve: not starting, stopping or silent (absent from older primaries). */
  readyWorkers?: number;
  /**
   * The last reload (H529): its `outcome` (`complete` or `failed`), when it began and ended,
   * the workers it was to replace and those it replaced, and a failure's `error`. A live worker
   * started before a failed reload's `startedAt` runs the code from before it. Absent before
   * the first reload, and from older primaries.
   */
  lastReload?: LastReload;
  /** Malformed messages from the live workers, and replies that matched no request, dropped on arrival. */
  protocolErrors: number;
  /** The shared store's figures (`primary.store.stats()`; absent from older primaries). */
  store?: StoreStats;
  /**
   * How this primary's answers name its options (H363), as its refusals do (`ControlErrorBody.optionNames`):
   * `flags` for `clusterkit run`'s (`--max-workers`; its workers' failures rewritten so), `api` for
   * a primary of the user's own code (`maxWorkers`). The CLI names them so in what it writes
   * itself (`show`'s `at most 8 (maxWorkers)`); absent from an older primary, read as `flags`.
   */
  optionNames?: OptionNames;
}

export interface ControlErrorBody {
  name: string;
  code?: string | undefined;
  message: string;
  /**
   * How `message` names the primary's options (H359), in the answer to a request the primary
   * read (a refusal or failure of its command); missing from the answer to a request it could
   * not read (the protocol's own error, which names no option, H385) and from an older primary.
   */
  optionNames?: OptionNames | undefined;
}

/**
 * How a primary's error message names its options (H359): `api` as the library does
 * (`"minReadyMs"`, what a primary of the user's own code was given), `flags` as `clusterkit run`
 * does (`--min-ready`, what its user typed; its own log says the same). The CLI prints either as
 * it is; an older primary's message (no `optionNames`) is in the library's names, and the CLI
 * reads it as a `clusterkit run` one, as it did before.
 */
export type OptionNames = 'api' | 'flags';

export type ControlResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ControlErrorBody };

/** What `readLines` tells a server besides the lines (control-connection.ts). */
export interface LineHooks {
  /** After each chunk: whether part of a line waits for its newline (the request-line deadline runs meanwhile). */
  onPartial?(isPartial: boolean): void;
  /** The stream ended; a last line without its newline was passed to `onLine` first. */
  onEnd?(): void;
}

/**
 * Calls `onLine` for every complete line read from `stream`; `onOverflow` when a line grows
 * past `maxChars` (the caller then drops the connection, and no line is read after).
 */
export function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void, onOverflow: () => void, maxChars = kMaxLineBytes, hooks: LineHooks = {}): void {
  const decoder = new StringDecoder('utf8');
  let buffered = '';
  let isOverflowed = false;
  stream.on('data', (chunk: Buffer) => {
    if (isOverflowed) return;
    buffered += decoder.write(chunk);
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      // The limit is on the line, however it arrived: a 70 000-character line in one chunk was
      // parsed, where the same line in two chunks was refused (H237).
      if (newline > maxChars) break;
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) onLine(line);
      newline = buffered.indexOf('\n');
    }
    if (buffered.length > maxChars) {
      buffered = '';
      isOverflowed = true;
      onOverflow();
      return;
    }
    hooks.onPartial?.(buffered.trim() !== '');
  });
  if (hooks.onEnd === undefined) return;
  stream.once('end', () => {
    // `printf '{"id":1,...}' | nc -U`: a last request without its newline is still a request.
    const line = (buffered + decoder.end()).trim();
    buffered = '';
    if (!isOverflowed && line.length > maxChars) {
      isOverflowed = true;
      return void onOverflow();
    }
    if (line && !isOverflowed) onLine(line);
    hooks.onEnd?.();
  });
}
