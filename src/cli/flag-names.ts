/**
 * The library's messages name its API options (`maxWorkers`, `maxMemoryMb`); a CLI user typed
 * flags (`--max-workers`, `--max-memory`). What the CLI prints from the library (a refused
 * `scale`, the primary's log lines) goes through `inFlagNames`, so a message names what the
 * reader can change. Only the phrasings the library uses are rewritten; anything else passes
 * through untouched.
 */
import { formatElapsed } from '../duration.js';
import type { RemoteError } from '../errors.js';
import { optionNamesOf } from '../control/request-once.js';
import type { OptionNames } from '../control/control-protocol.js';
import type { Logger } from '../logger.js';
import { kDefaultBackoffInitialMs, kDefaultHeartbeatTimeoutMs, kDefaultStableAfterMs } from '../primary/primary-options.js';

/** API option -> the `clusterkit run` flag that sets it. */
export const kFlagOfOption: Readonly<Record<string, string>> = Object.freeze({
  maxWorkers: '--max-workers',
  maxMemoryMb: '--max-memory',
  cronRestart: '--cron-restart',
  shutdownTimeoutMs: '--shutdown-timeout',
  gradualDrainMs: '--gradual-drain',
  minReadyMs: '--min-ready',
  'heartbeat.timeoutMs': '--heartbeat-timeout',
  readyTimeoutMs: '--ready-timeout',
  waitListen: '--wait-listen',
  'restart.maxRestarts': '--max-restarts',
  'restart.windowMs': '--restart-window',
  'restart.startupWindowMs': '--startup-window',
  'restart.maxStartupFailures': '--max-startup-failures',
});

/**
 * API option -> the config key and the `RunLayer` field that set it: a value that came from a
 * config file is named by the key the file wrote (`listen_timeout in wr.config.js`), H146.
 */
export const kConfigKeyOfOption: Readonly<Record<string, { readonly key: string; readonly field: string }>> = Object.freeze({
  maxWorkers: { key: 'maxWorkers', field: 'maxWorkers' },
  maxMemoryMb: { key: 'maxMemory', field: 'maxMemoryMb' },
  cronRestart: { key: 'cronRestart', field: 'cronRestart' },
  shutdownTimeoutMs: { key: 'shutdownTimeout', field: 'shutdownTimeoutMs' },
  gradualDrainMs: { key: 'gradualDrain', field: 'gradualDrainMs' },
  minReadyMs: { key: 'minReady', field: 'minReadyMs' },
  'heartbeat.timeoutMs': { key: 'heartbeatTimeout', field: 'heartbeatTimeoutMs' },
  readyTimeoutMs: { key: 'readyTimeout', field: 'readyTimeoutMs' },
  waitListen: { key: 'waitListen', field: 'waitListen' },
  'restart.maxRestarts': { key: 'maxRestarts', field: 'maxRestarts' },
  'restart.windowMs': { key: 'restartWindow', field: 'restartWindowMs' },
  'restart.startupWindowMs': { key: 'startupWindow', field: 'startupWindowMs' },
  'restart.maxStartupFailures': { key: 'maxStartupFailures', field: 'maxStartupFailures' },
  'restart.stableAfterMs': { key: 'stableAfter', field: 'stableAfterMs' },
  'restart.backoff': { key: 'restartBackoff', field: 'restartBackoffMs' },
  // Settings of the CLI alone, named in its own lines with `settingName` (H263).
  waitReady: { key: 'waitReady', field: 'waitReady' },
  healthPort: { key: 'healthPort', field: 'healthPort' },
  watch: { key: 'watch', field: 'watch' },
});

/** The CLI's own settings -> their flag, for `settingName` (the library has no such option, so `inFlagNames` leaves them). */
const kCliFlags: Readonly<Record<string, string>> = Object.freeze({ waitReady: '--wait-ready', healthPort: '--health-port', watch: '--watch' });

/**
 * `--wait-ready`, or `--wait-ready (wait_ready in eco2.config.cjs)` when a config file set it: a
 * line the CLI writes itself names the key the reader wrote, as `inFlagNames` does for the
 * library's (H146, H263).
 */
export function settingName(option: string, sources: OptionSources = {}): string {
  const flag = kFlagOfOption[option] ?? kCliFlags[option] ?? option;
  return Object.hasOwn(sources, option) ? `${flag} (${sources[option]})` : flag;
}

/**
 * The primary's lines that name an option with no flag (H185): the config file key that sets it
 * (config-only: PM2 has neither), with the value it has unless the file sets it.
 */
const kConfigOnlyPhrases: readonly { readonly pattern: RegExp; readonly option: string; readonly text: (source: string | undefined) => string }[] = [
  {
    pattern: /\(within restart\.stableAfterMs\)/g,
    option: 'restart.stableAfterMs',
    text: (source) => `(within ${source ?? `stableAfter: ${formatElapsed(kDefaultStableAfterMs)} unless a config file sets it`})`,
  },
  {
    // The served crash line whose restart backs off (H449): it says the value already.
    pattern: /\(restart\.stableAfterMs\)/g,
    option: 'restart.stableAfterMs',
    text: (source) => `(${source ?? 'stableAfter in a config file'})`,
  },
  {
    pattern: /\(restart\.backoff\)/g,
    option: 'restart.backoff',
    text: (source) => `(${source ?? 'restartBackoff'}, doubled in a row${source === undefined ? `: ${formatElapsed(kDefaultBackoffInitialMs)} unless a config file sets it` : ''})`,
  },
];

/**
 * The primary's advice that only a library user can follow (H199): it names an option with no
 * flag nor config key (`maxMessageBytes`), or an API a `run` script cannot call (a store key,
 * `roundRobin()`). A `run` script's own `process.send()` messages are read by nothing but the
 * `'ready'` check, so the advice there is to stop sending them.
 */
const kLibraryAdvice: readonly { readonly pattern: RegExp; readonly text: string | ((sources: OptionSources, facts: RunFacts, match: string) => string) }[] = [
  {
    pattern: /Messages of many small values parse slowly; send a file path or a store key instead, or lower maxMessageBytes \([^)]*\) if workers are not trusted/g,
    text: "They came from process.send() in the script (or a module it loads): clusterkit run reads nothing the script sends but 'ready' (--wait-ready), so remove that call, or send less",
  },
  {
    pattern: /clusterkit's own messages are limited by "maxMessageBytes"; this one came from process\.send\(\), or from a worker whose "maxMessageBytes" is larger than the primary's\. Send a file path or a store key instead, or raise "maxMessageBytes" on the primary\./g,
    text: "It came from process.send() in the script (or a module it loads): clusterkit run reads nothing the script sends but 'ready' (--wait-ready), so remove that call.",
  },
  {
    pattern: /: (new connections, )?roundRobin\(\) and sticky sessions pass it over until it answers/g,
    // The run's own timeout, and what sets it (H372: "10 s" whatever --heartbeat-timeout said).
    // New connections go to the other workers with round-robin scheduling (H378).
    text: (sources, facts, match) =>
      `: ${match.startsWith(': new connections') ? 'new connections go to the other workers while one answers, those node:cluster handed it' : 'the connections node:cluster hands it'} wait until it answers, and if it stays silent ${secondsText(facts.heartbeatTimeoutMs ?? kDefaultHeartbeatTimeoutMs)} (${settingName('heartbeat.timeoutMs', sources)}) it is killed and replaced`,
  },
];

/** What the rewritten lines need to know of the run besides where its options came from (H372). */
export interface RunFacts {
  /** `--heartbeat-timeout` / `heartbeatTimeout`; undefined for the default (10 s). */
  readonly heartbeatTimeoutMs?: number | undefined;
  /**
   * A `readyTimeout` under 1 s written without a unit: what a line about it (a failed start) ends
   * with, how it was written and how to write seconds (H463).
   */
  readonly bareReadyTimeout?: string | undefined;
}

/** `10 s`, `2.5 s`: a timeout as set, never rounded. */
function secondsText(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${ms / 1_000} s`;
}

/** API option -> where its value came from, when a config file set it: `listen_timeout in wr.config.js`. */
export type OptionSources = Readonly<Record<string, string>>;

const kOptionNames = Object.keys(kFlagOfOption)
  .map((name) => name.replaceAll('.', '\\.'))
  .join('|');
/** `(maxMemoryMb; clusterkit run: --max-memory)`: a message that already names both keeps the flag. */
const kBothNames = new RegExp(`\\((${kOptionNames}); clusterkit run: (--[a-z-]+)\\)`, 'g');
/** `the "maxWorkers" option`, `"maxWorkers"`, `(maxMemoryMb)`, `(option "readyTimeoutMs")`. */
const kOptionPhrase = new RegExp(`(?:the "(${kOptionNames})" option|"(${kOptionNames})"|\\((${kOptionNames})\\)|\\(option "(${kOptionNames})"\\))`, 'g');

/**
 * `sources`: the options a config file set, named with the flag (`(--ready-timeout; listen_timeout in wr.config.js)`);
 * `facts`: the settings a rewritten line states (the heartbeat timeout).
 */
export function inFlagNames(message: string, sources: OptionSources = {}, facts: RunFacts = {}): string {
  const also = (option: string) => (Object.hasOwn(sources, option) ? `; ${sources[option]}` : '');
  const configOnly = kConfigOnlyPhrases.reduce((text, { pattern, option, text: phrase }) => text.replace(pattern, () => phrase(Object.hasOwn(sources, option) ? sources[option] : undefined)), message);
  const advised = kLibraryAdvice.reduce((text, { pattern, text: advice }) => text.replace(pattern, (match: string) => (typeof advice === 'string' ? advice : advice(sources, facts, match))), configOnly);
  // A failed start of a bare readyTimeout says how to write seconds (H463): its "raise the option" alone did not.
  const bareNoted = facts.bareReadyTimeout !== undefined && advised.includes('(option "readyTimeoutMs")') ? `${advised} ${facts.bareReadyTimeout}` : advised;
  return bareNoted
    .replace(kBothNames, (_, option: string, flag: string) => `(${flag}${also(option)})`)
    .replace(/^The "count" option must be/, 'The worker count must be')
    // A watch a config file set says so, as a cron reload's line does (newcomer t60).
    .replace(/^rolling reload started: a change under --watch asked for it/, () => `rolling reload started: a change under ${settingName('watch', sources)} asked for it`)
    // A scale or start below the health endpoint's minimum (H464): listenHealth()'s minReady is --health-min-ready.
    .replace(/ requires \(minReady\)/, ' requires (--health-min-ready; healthMinReady in a config file)')
    // The gradual drain's line when the drain is shortened by the worker's deadline.
    .replace(/\(gradualDrainMs, at most half of shutdownTimeoutMs\)/, '(--gradual-drain, at most half of --shutdown-timeout)')
    // The primary's lines on a stop's timeout: requests cut off at a worker's deadline, a
    // _destroy() cut short, and mid-sentence, the kill at it (newcomer t70: `Its stop had 2000 ms:
    // raise the shutdownTimeoutMs option` under clusterkit run), and an _init() that outlasted it.
    .replace(/\b([Rr])aise the shutdownTimeoutMs option\b/g, (_, r: string) => `${r}aise --shutdown-timeout (${sources.shutdownTimeoutMs ?? 'shutdownTimeout in the config file'})`)
    .replace(/\bshorter than shutdownTimeoutMs\b/g, () => `shorter than --shutdown-timeout (${sources.shutdownTimeoutMs ?? 'shutdownTimeout in the config file'})`)
    .replace(kOptionPhrase, (whole: string, quoted?: string, bare?: string, parenthesized?: string, option?: string) => {
      if (parenthesized !== undefined) return `(${kFlagOfOption[parenthesized]}${also(parenthesized)})`;
      if (option !== undefined) return `(option ${kFlagOfOption[option]}${also(option)})`;
      if (quoted !== undefined) return `the ${kFlagOfOption[quoted]} value${Object.hasOwn(sources, quoted) ? ` (${sources[quoted]})` : ''}`;
      return kFlagOfOption[bare!] ?? whole;
    });
}

/**
 * A primary's refusal (a control answer's error) as the CLI prints it: in the names of the
 * options that primary was given (H359). `clusterkit run`'s says its flags already, a primary of
 * the user's own code its API options (`"minReadyMs"`: it has no `--min-ready`); an older
 * primary's, which does not say, is in the library's names, and rewritten to flags as before.
 */
export function remoteMessage(error: RemoteError): string {
  return optionNamesOf(error) === undefined ? inFlagNames(error.remoteMessage) : error.remoteMessage;
}

/**
 * How a primary's answer (`status`, `describe`, `scale`) names its options (H363): `api` for a
 * primary of the user's own code (`serviceName`, `startClusteredService`), `flags` for
 * `clusterkit run`'s, and for an older primary, which does not say (read as `clusterkit run`'s,
 * as before). Another process's answer: anything but `'api'` is `flags`.
 */
export function optionNamesOfAnswer(answer: unknown): OptionNames {
  return typeof answer === 'object' && answer !== null && (answer as { optionNames?: unknown }).optionNames === 'api' ? 'api' : 'flags';
}

/**
 * An option of the library (`maxWorkers`, `restart.stableAfterMs`) as a primary that names its
 * options `names` has it, for a line the CLI writes about it (H363): `maxWorkers` for a primary
 * of the user's own code, `--max-workers` for `clusterkit run`'s, or its config key where no flag
 * sets it (`stableAfter`).
 */
export function optionNameFor(option: string, names: OptionNames): string {
  if (names === 'api') return option;
  return kFlagOfOption[option] ?? kConfigKeyOfOption[option]?.key ?? option;
}

/** `logger` with every message in flag names (the fields, `err` included, are left as they are). */
export function withFlagNames(logger: Logger, sources: OptionSources = {}, facts: RunFacts = {}): Logger {
  const wrap =
    (method: keyof Logger) =>
    (fields: object, message?: string): void =>
      logger[method](fields, message === undefined ? undefined : inFlagNames(message, sources, facts));
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
