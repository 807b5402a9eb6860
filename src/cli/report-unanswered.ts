/**
 * The stderr words for clusters that run (a process listens on their control socket) but gave
 * no status, used by `list`, `status` and each round of `status --watch`.
 */
import { ControlSocketError, RemoteError } from '../errors.js';
import { ownLimitWords, type UnansweredCluster, unansweredDetail, unansweredReason } from '../control/control-client.js';
import { shellWord } from '../shell-word.js';
import { type SilentPrimary, silentPrimary, silentPrimaryWordsOf } from './silent-primary.js';
import { wholeMs } from '../whole-ms.js';

/** How long `list` and `status` wait for one cluster's answer (ms). */
export const kStatusTimeoutMs = 5_000;

/** More clusters than this without an answer in one round of a watch: one line per kind of silence (H89). */
export const kFoldAfter = 3;

/** A cluster without a status, with what a watch adds: it is still silent from an earlier round. */
export interface UnansweredEntry extends UnansweredCluster {
  /** Words after the reason, e.g. `asked again every 10 s` for a silence a watch carries over. */
  readonly note?: string;
  /** Its ask is still out, within its time: no answer yet (a watch's frame does not wait for it). */
  readonly isPending?: boolean;
}

/**
 * Says on stderr which clusters run but did not answer, each in one line (or, with `fold`,
 * once there are more than `kFoldAfter`, one line per kind of silence with the names); exit
 * code 1 when there is one, so a script does not take the list for complete. What the listener
 * sent, if anything, is never echoed. A cluster this process could not ask (its own
 * descriptors ran out, or the survey's time) is named as such: never blamed (F3).
 */
export function reportUnanswered(unanswered: readonly UnansweredEntry[], fold = false): number {
  if (fold && unanswered.length > kFoldAfter) {
    const groups = new Map<string, { isOurs: boolean; names: string[] }>();
    for (const entry of unanswered) {
      const { isOurs, why } = words(entry);
      const group = groups.get(why) ?? { isOurs, names: [] };
      group.names.push(entry.name);
      groups.set(why, group);
    }
    for (const [why, { isOurs, names }] of groups) {
      const shown = names.length > 10 ? `${names.slice(0, 10).join(', ')} and ${names.length - 10} more` : names.join(', ');
      process.stderr.write(
        isOurs
          ? `clusterkit: did not ask ${names.length === 1 ? '1 cluster for its' : `${names.length} clusters for their`} status (${why}): ${shown}. This says nothing about them; try "clusterkit status <name>".\n`
          : `clusterkit: ${count(names.length)} running (a process listens on ${names.length === 1 ? 'its control socket' : 'their control sockets'}) but did not answer "status" (${why}): ${shown}. Try "clusterkit status <name>", and look at ${names.length === 1 ? 'its' : 'their'} logs.\n`,
      );
    }
    return 1;
  }
  for (const entry of unanswered) {
    const { name } = entry;
    const said = unansweredWords(entry);
    process.stderr.write(
      said.isOurs
        ? `clusterkit: did not ask cluster "${name}" for its status: ${said.message}\n`
        : `clusterkit: cluster "${name}" is running (a process listens on its control socket) but did not answer "status": ${said.message}\n`,
    );
  }
  return unanswered.length > 0 ? 1 : 0;
}

/**
 * Why a cluster gave no status, in a word: `pending` (a watch's ask still out), `timeout`,
 * `closed` (the connection closed unanswered), `refused` (the primary answered with an error),
 * `busy` (its control socket was full for 10 s), `not-protocol` (something else answered), or
 * this process's own: `own-limit` (it could not open a connection), `out-of-time` (the survey's
 * time was up before its turn: `not-asked` in unanswered.ts). `--json` says it as `reason`
 * (unanswered-json.ts).
 */
export type UnansweredKind = 'pending' | 'timeout' | 'closed' | 'refused' | 'busy' | 'not-protocol' | 'own-limit' | 'out-of-time';

/** What is said of one cluster without a status: its kind, whether this process did not ask it, and the words after its name. */
export interface UnansweredWords {
  readonly kind: UnansweredKind;
  /** This process did not ask it: nothing is said of the cluster. */
  readonly isOurs: boolean;
  /** What stderr says after `did not answer "status": ` (or `did not ask ... for its status: `): why, and what to do. */
  readonly message: string;
}

/** The words of `entry`; `silent`: its primary as read now (its pid and whether it is stopped), read here when not given. */
export function unansweredWords(entry: UnansweredEntry, silent?: SilentPrimary): UnansweredWords {
  const { kind, isOurs, why, advice } = words(entry, silent);
  const message = isOurs ? `${why}. This says nothing about the cluster; try "clusterkit status ${shellWord(entry.name)}".` : `${why}.${advice === '' ? '' : ` ${advice}`}`;
  return { kind, isOurs, message };
}

/** `1 cluster is`, `3 clusters are`. */
function count(clusters: number): string {
  return clusters === 1 ? '1 cluster is' : `${clusters} clusters are`;
}

/** Why one cluster has no status, and what to do; `isOurs`: this process did not ask it. */
function words({ name, error, note, isPending }: UnansweredEntry, silentNow?: SilentPrimary): { kind: UnansweredKind; isOurs: boolean; why: string; advice: string } {
  if (isPending === true) {
    return { kind: 'pending', isOurs: false, why: `no answer yet; still waiting, up to ${kStatusTimeoutMs} ms`, advice: `Its primary may be busy or blocked; the next rounds say which.` };
  }
  const code = (error as NodeJS.ErrnoException).code;
  const reason = error instanceof RemoteError ? 'refused' : error instanceof ControlSocketError ? unansweredReason(error) : 'closed';
  const detail = unansweredDetail(error);
  const tail = note === undefined ? '' : `; ${note}`;
  const retry = `Its primary may be blocked, out of file descriptors, or exiting; try "clusterkit status ${shellWord(name)}" again, and look at its logs.`;
  switch (reason) {
    case 'own-limit':
      return {
        kind: reason,
        isOurs: true,
        why: `clusterkit could not open a connection: ${ownLimitWords((error.cause as NodeJS.ErrnoException | undefined)?.code) ?? 'this process lacked what it needs'}${tail}`,
        advice: '',
      };
    case 'not-asked':
      return { kind: 'out-of-time', isOurs: true, why: `the ${2 * kStatusTimeoutMs} ms of this survey were up before its turn, as too many sockets before it answered slowly${tail}`, advice: '' };
    case 'not-protocol':
      return {
        kind: reason,
        isOurs: false,
        why: `it answered with something that is not the clusterkit control protocol${code ? ` (${code})` : ''}${detail.what === undefined ? '' : `: ${detail.what}`}${tail}`,
        advice: `The process listening on its socket may not be a clusterkit primary, or one of another version; look at what holds the socket, and remove it if no cluster "${name}" should run.`,
      };
    case 'timeout': {
      const waitedMs = detail.waitedMs ?? kStatusTimeoutMs;
      const brief =
        waitedMs < kStatusTimeoutMs ? `, the short ask a survey gives once its first ${kStatusTimeoutMs} ms are spent on sockets that answered slowly` : '';
      // Its pid, and whether its process is stopped, as stop and scale say (ops tester t54).
      const silent = silentPrimaryWordsOf(silentNow ?? silentPrimary(name));
      const advice = `${silent.charAt(0).toUpperCase()}${silent.slice(1)}; try "clusterkit status ${shellWord(name)}" again, and look at its logs.`;
      return { kind: reason, isOurs: false, why: `no answer within ${wholeMs(waitedMs)} ms${brief}${tail}`, advice };
    }
    case 'busy':
      // Its message says it all: busy, the cap, try again (H430); its period is the line's (H440).
      return { kind: reason, isOurs: false, why: `${error.message.replace(/\.$/, '')}${tail}`, advice: '' };
    case 'refused':
      return { kind: reason, isOurs: false, why: `it refused: ${(error as RemoteError).remoteMessage}${tail}`, advice: retry };
    default:
      return { kind: 'closed', isOurs: false, why: `it closed the connection unanswered${code ? ` (${code})` : ''}${tail}`, advice: retry };
  }
}
