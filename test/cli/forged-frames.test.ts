/**
 * Under `clusterkit run` the bootstrap owns the worker's IPC channel: a script's
 * `process.send()` of a frame shaped as clusterkit's protocol is refused (H233). Before, a
 * forged `$ready` at the script's top counted the worker ready (`service started`, the port
 * refused), and the genuine `$ready` after the listen was the one dropped as forged.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe("a clusterkit run script's forged frames", () => {
  it('[H233] a forged $ready is refused: the worker is ready once it listens, and the genuine $ready is not called forged', async () => {
    const runtime = runtimeDir();
    const go = join(runtime, 'go');
    const run = startCli(['run', 'test/fixtures/cli-forged-ready.mjs', '-w', '1', '--name', 'forger'], { runtime, env: { PORT: String(await freePort()), GO: go } });
    await run.waitFor(/own message callback: sent/);
    // Its stderr (the WARN) and stdout are two pipes: under load the WARN was read after the last stdout line.
    await run.waitFor(/WARN The script sent a "\$ready" message shaped as clusterkit's own IPC protocol/);
    const output = run.output();
    expect(output).toMatch(/forged send returned false/);
    expect(output).toMatch(/forged send callback: ReservedMessageError ERR_RESERVED_MESSAGE/);
    expect(output).toMatch(/enveloped send callback: ERR_RESERVED_MESSAGE/);
    // What goes out is checked, not the object passed: a toJSON() frame is refused, a getter's
    // frame is sent as what it first read (no __ck: a message of the script's own).
    expect(output).toMatch(/toJSON send callback: ERR_RESERVED_MESSAGE/);
    expect(output).toMatch(/getter send callback: sent/);
    // One WARN per process, naming the type.
    expect(output.match(/WARN The script sent a "\$ready" message shaped as clusterkit's own IPC protocol/g)).toHaveLength(1);
    // Not ready before it listens (before: "workers 1/1" with the port refused).
    const before = await cli(['status', 'forger'], { runtime, ms: 30_000 });
    expect(before.stdout).not.toMatch(/1\/1/);
    expect(run.output()).not.toMatch(/service forger started/);
    writeFileSync(go, '');
    await run.waitFor(/service forger started: 1 worker/);
    expect(run.output().indexOf('listening now')).toBeLessThan(run.output().indexOf('service forger started'));
    expect(await cli(['stop', 'forger'], { runtime, ms: 60_000 })).toMatchObject({ code: 0 });
    await run.exited();
    // Before: 'sent "$ready" at a time its state rules out ... it was dropped' for the genuine one.
    expect(run.output()).not.toMatch(/\$ready" at a time its state rules out/);
  });

  it('[H383] a script\'s node:cluster "listening" (and any NODE_ cmd) is refused: under --wait-listen the worker is ready once it really listens', async () => {
    const runtime = runtimeDir();
    const go = join(runtime, 'go');
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-forged-listening.mjs', '-w', '1', '--name', 'nclisten', '--wait-listen'], { runtime, env: { PORT: String(port), GO: go } });
    await run.waitFor(/own message callback: sent/);
    await run.waitFor(/timer send callback: /);
    const output = run.output();
    expect(output).toMatch(/forged send returned false/);
    expect(output).toMatch(/forged send callback: ReservedMessageError ERR_RESERVED_MESSAGE/);
    expect(output).toMatch(/_send callback: ReservedMessageError ERR_RESERVED_MESSAGE/);
    expect(output).toMatch(/timer send callback: ReservedMessageError ERR_RESERVED_MESSAGE/);
    expect(output).toMatch(/ack send callback: ReservedMessageError ERR_RESERVED_MESSAGE/);
    // One WARN per process, naming the command.
    expect(output.match(/WARN The script sent a message with cmd "NODE_CLUSTER" \(act "listening"\), Node's own internal protocol, with process\.send\(\); it was refused, not sent/g)).toHaveLength(1);
    // Not ready before it listens (before: "worker 1 ready", "service nclisten started", the port refused).
    const before = await cli(['status', 'nclisten'], { runtime, ms: 30_000 });
    expect(before.stdout).not.toMatch(/1\/1/);
    expect(run.output()).not.toMatch(/service nclisten started/);
    // Its real listen goes through: Node's own messages are not the script's.
    writeFileSync(go, '');
    await run.waitFor(/service nclisten started: 1 worker/);
    expect(run.output().indexOf('listening now')).toBeLessThan(run.output().indexOf('service nclisten started'));
    expect(await cli(['stop', 'nclisten'], { runtime, ms: 60_000 })).toMatchObject({ code: 0 });
    await run.exited();
  });
  it('[H383][H395] a script\'s forged answers to a connection, sent from inside that connection\'s dispatch: refused; Node\'s own answers go through without a stack read', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-forged-connection-answer.mjs', '-w', '1', '--name', 'nconn'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service nconn started: 1 worker/);
    // Every connection is served: Node's answers (its handle ack, node:cluster's accepted) went out.
    for (let index = 0; index < 5; index++) expect(await get(`http://127.0.0.1:${port}/`, 20_000)).toEqual({ status: 200, body: 'ok' });
    await run.waitFor(/forged answer callback: /);
    await run.waitFor(/forged handle ack callback: /);
    expect(run.output()).toMatch(/forged answer callback: ReservedMessageError ERR_RESERVED_MESSAGE \(seq number\)/);
    expect(run.output()).toMatch(/forged handle ack callback: ReservedMessageError ERR_RESERVED_MESSAGE/);
    expect(await cli(['stop', 'nconn'], { runtime, ms: 60_000 })).toMatchObject({ code: 0 });
    await run.exited();
  });
});
