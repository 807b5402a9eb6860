/**
 * `clusterkit show <name> [--json]` (alias `describe`, PM2's names): the settings a running
 * cluster has in force, asked of its primary (`describe` over the control socket), then its
 * workers as `status` shows them.
 */
import { controlRequest } from '../../control/control-client.js';
import { parseStripped, terminalSafeJson } from '../../control/control-chars.js';
import type { ClusterDescription } from '../../control/control-protocol.js';
import { unansweredReason } from '../../control/unanswered.js';
import { ControlCommandUnsupportedError, ControlSocketError, RemoteError } from '../../errors.js';
import { parseClusterName } from '../arg-values.js';
import { formatDescription, redactDescription } from '../format-settings.js';
import type { CommandName } from '../help.js';
import { parseCommand } from '../parse-command.js';
import { kStatusTimeoutMs } from '../report-unanswered.js';
import { UsageError } from '../usage-error.js';
import { missingNameError } from '../missing-name.js';
import { shellWord } from '../../shell-word.js';
import { silentPrimaryWords } from '../silent-primary.js';

export function showCommand(command: Extract<CommandName, 'show' | 'describe'>): (args: string[]) => Promise<number | 'help'> {
  return async (args) => {
    const { values, positionals } = parseCommand(command, args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (values.help) return 'help';
    if (positionals.length === 0) throw await missingNameError(command);
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`, command);
    const name = parseClusterName(positionals[0]!, command);
    // The settings come whole (H279): an argument's newline or ESC is part of it, which --json
    // gives back and the text shows escaped; the rest is stripped as every answer is.
    const answer = (await controlRequest(name, 'describe', { timeoutMs: kStatusTimeoutMs, keepControlChars: true }).catch((error: unknown) => {
      // A primary of a clusterkit before `show` refuses the command it does not know.
      if (error instanceof RemoteError && error.remoteCode === 'ERR_INVALID_ARGUMENT' && error.remoteMessage.startsWith('Unknown control command')) {
        throw new ControlCommandUnsupportedError(name, 'describe', `"clusterkit status ${shellWord(name)}" shows its workers; its settings are shown once it runs this clusterkit (restart it with it).`, { cause: error });
      }
      // Named, with its pid and state, not a socket path (ops tester t54).
      if (error instanceof ControlSocketError && unansweredReason(error) === 'timeout') {
        throw new ControlSocketError(`The cluster "${name}" did not answer "show" within ${kStatusTimeoutMs} ms: ${silentPrimaryWords(name)}; try again, and look at its logs.`, { cause: error });
      }
      throw error;
    })) as ClusterDescription;
    const description = isObject(answer) ? ({ ...(parseStripped(JSON.stringify({ ...answer, settings: undefined })) as object), settings: answer.settings } as ClusterDescription) : answer;
    process.stdout.write(values.json ? `${terminalSafeJson(redactDescription(description), 2)}\n` : formatDescription(description));
    return 0;
  };
}

function isObject(value: unknown): value is ClusterDescription {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
