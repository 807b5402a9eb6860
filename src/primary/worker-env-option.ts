/**
 * The `env` option of the primary and of `fork()`: variables added to the workers' inherited
 * environment, except clusterkit's own (`CLUSTERKIT_NAME`, `CLUSTERKIT_ROLES`, ...), which the
 * primary sets in each worker after every `env` (H70). One named there was dropped in silence, so
 * a user who meant it (a worker's name, its roles) never learned why the worker had neither: it
 * is refused at the call site, as `instanceVar` naming one is, with what to use instead.
 */
import { InvalidOptionError } from '../errors.js';
import { envOption } from '../validate.js';
import { kNameEnv, kPrimaryMaxMessageBytesEnv, kPrimaryPidEnv, kRolesEnv, kSerializationEnv, kSlotEnv, kWatchdogEnv, kBulkFdEnv, kShutdownTimeoutEnv, ownEnvNamesIn } from '../worker-env.js';

/** What each of clusterkit's own variables holds, for the message that refuses it. */
const kHolds: Readonly<Record<string, string>> = {
  [kSlotEnv]: "the worker's slot number (instanceVar names a variable of your own to hold it too)",
  [kNameEnv]: "the worker's name, given by fork({ name })",
  [kRolesEnv]: "the worker's roles, given by fork({ roles })",
  [kSerializationEnv]: 'the serialization option',
  [kPrimaryMaxMessageBytesEnv]: "the primary's maxMessageBytes option",
  [kWatchdogEnv]: "a setting of clusterkit's orphan watchdog",
  [kBulkFdEnv]: "the descriptor of the worker's bulk pipe (docs/messaging.md)",
  [kPrimaryPidEnv]: "the pid of the worker's primary",
  [kShutdownTimeoutEnv]: "the primary's shutdownTimeoutMs option (how long an orphaned worker drains)",
};

/**
 * @throws {InvalidOptionError} as `envOption` does, and when a variable is one of clusterkit's
 *   own with a value other than the primary's own (a spread `process.env` passes).
 */
export function workerEnvOption(value: unknown, name: string): Readonly<Record<string, string | undefined>> {
  const env = envOption(value, name);
  const [own] = ownEnvNamesIn(env);
  if (own !== undefined) {
    throw new InvalidOptionError(name, `an object without clusterkit's own variables: the primary sets ${own} in each worker itself, after any env: it holds ${kHolds[own]}`, own);
  }
  return env;
}
