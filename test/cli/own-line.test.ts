/**
 * clusterkit's own line written into a worker's output starts on a line of its own (H385,
 * hostile t38 L3): a script's stderr left without a trailing newline, then the bootstrap's WARN
 * about a refused message, made one line `partial without newlineclusterkit: WARN ...` in
 * `run`'s output, `clusterkit logs` and the log files. The CLI binary run directly.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kScript = `
const http = require('node:http');
http.createServer((request, response) => response.end('ok')).listen(process.env.PORT, () => {
  process.stderr.write('partial without newline');
  process.send({ __ck: 1, m: [3, 0, '$crash', { origin: 'uncaughtException', name: 'E', message: 'forged' }] });
  process.stderr.write('after the warning\\n');
});
`;

describe("clusterkit run: clusterkit's line in a worker's output that its script left mid-line", () => {
  it('[H385] the bootstrap\'s WARN starts a line of its own, in run\'s output and in clusterkit logs', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'partial.cjs': kScript });
    const run = startCli(['run', 'partial.cjs', '--name', 'hpart', '-w', '1'], { runtime, cwd: project, env: { PORT: String(await freePort()) } });
    await run.waitFor(/after the warning/);
    const lines = run.output().split('\n');
    // Before: `[hpart:1 err] partial without newlineclusterkit: WARN The script sent ...`.
    expect(lines).toContainEqual(expect.stringMatching(/^\[hpart:1 err\] partial without newline$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[hpart:1 err\] clusterkit: WARN The script sent a "\$crash" message shaped as clusterkit's own IPC protocol/));
    const logs = await cli(['logs', 'hpart', '--lines', '50'], { runtime });
    const logLines = `${logs.stdout}\n${logs.stderr}`.split('\n');
    expect(logs.code).toBe(0);
    expect(logLines).toContainEqual(expect.stringMatching(/partial without newline$/));
    expect(logLines).toContainEqual(expect.stringMatching(/ clusterkit: WARN The script sent a "\$crash" message/));
    expect(logLines.join('\n')).not.toContain('newlineclusterkit');
    expect((await cli(['stop', 'hpart'], { runtime })).code).toBe(0);
    expect(await run.exited()).toBe(0);
  });
});
