/**
 * The process that loads a config file (config-loader.ts): started with an IPC channel, its
 * request (`{ path, argv, isRecheck }`, JSON) in the variable `kLoadRequestVariable`, not on its
 * command line: the CLI's arguments may hold secrets (`--env TOKEN=...`), and `ps` shows a
 * command line to every user. It posts where the loading is
 * (`{ phase: 'loaded' }` once the file's default export is there, `{ phase: 'read' }` once its
 * values are copied), then one `{ answer, env }`; then the CLI ends it. Built as
 * dist/cli/config-worker.js, next to the CLI bundle.
 *
 * A default export that nothing can settle any more leaves nothing for the loop to wait for:
 * it empties, and the process exits with 13, as Node's own "unsettled top-level await" does.
 */
import { kLoadRequestVariable, loadConfigHere } from './config-loader.js';

const request = JSON.parse(process.env[kLoadRequestVariable] ?? '{}') as { path: string; argv: string[]; isRecheck: boolean };
delete process.env[kLoadRequestVariable];
// The config sees the command line it was started with, as in the CLI's own process.
process.argv = request.argv;
const send = (message: unknown) => process.send?.(message);
let isAnswered = false;
// The channel alone must not keep the process alive: an empty loop is a promise never settled.
process.channel?.unref();
process.once('beforeExit', () => {
  if (!isAnswered) process.exitCode = 13;
});
// The CLI is gone (killed): the loading is nobody's any more.
process.once('disconnect', () => process.exit(0));
void loadConfigHere(request.path, (phase) => send({ phase })).then((answer) => {
  isAnswered = true;
  // What the file set in process.env (`import 'dotenv/config'`) is the cluster's too, unless it is a recheck.
  send({ answer, ...(request.isRecheck ? {} : { env: { ...process.env } }) });
});
