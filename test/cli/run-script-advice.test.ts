/**
 * H199: under `clusterkit run`, the primary's advice names what a CLI user can do, never a
 * library option with no flag nor config key (`maxMessageBytes`) or an API a run script cannot
 * call (a store key, `roundRobin()`). Real runs of a script that sends through process.send()
 * or blocks its event loop.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const kScript = join(kRepoRoot, 'test/fixtures/cli-sends-much.mjs');
const kRunAdvice = "clusterkit run reads nothing the script sends but 'ready' (--wait-ready), so remove that call";
const kLibraryNames = /maxMessageBytes|store key|roundRobin\(\)|sticky sessions/;

async function runUntil(mode: string, line: RegExp): Promise<string> {
  const run = startCli(['run', kScript, '-w', '1', '--name', `advice-${mode}`], { runtime: runtimeDir(), env: { PORT: String(await freePort()), SEND_MODE: mode } });
  const [found] = await run.waitFor(line, 60_000);
  process.kill(run.child.pid!, 'SIGTERM');
  await run.exited();
  return found!;
}

describe('the primary\'s advice under clusterkit run', () => {
  it('[H199] a message over the limit from the script\'s process.send(): remove the call, no "maxMessageBytes" to raise', async () => {
    const line = await runUntil('large', /sent an IPC message of more than .*/);
    expect(line).toContain(`It came from process.send() in the script (or a module it loads): ${kRunAdvice}.`);
    expect(line).not.toMatch(kLibraryNames);
  });

  it('[H199] messages slow to parse from the script\'s process.send(): remove the call, no "maxMessageBytes" to lower', async () => {
    const line = await runUntil('many', /WARN worker \d+ sent .*/);
    expect(line).toContain(`They came from process.send() in the script (or a module it loads): ${kRunAdvice}, or send less`);
    expect(line).not.toMatch(kLibraryNames);
  });

  // The timeout named with the flag that sets it since H372 (the default's here: --heartbeat-timeout gives its own).
  // New connections go to the other workers since H378 (the script listens on a port).
  it('[H199][H372][H378] a blocked worker: what happens to its connections, not roundRobin() and sticky sessions', async () => {
    const line = await runUntil('block', /WARN worker \d+ silent for .*/);
    expect(line).toContain('its event loop most likely blocked: new connections go to the other workers while one answers, those node:cluster handed it wait until it answers, and if it stays silent 10 s (--heartbeat-timeout) it is killed and replaced');
    expect(line).not.toMatch(kLibraryNames);
  });
});
