/**
 * `clusterkit run ./server.js` (and a config's `script: './server.js'`) with only server.ts
 * there: run with a TypeScript loader (--node-arg, nodeArgs), server.ts runs; without one, the
 * refusal names server.ts and the flag (H380).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { kRepoRoot, type Spawned } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = join(kRepoRoot, 'test/fixtures/ts-sibling/server');

async function servesThenStops(run: Spawned): Promise<string> {
  const [, port] = await run.waitFor(/\{"listening":(\d+)\}/);
  const { body } = await get(`http://127.0.0.1:${port}/`);
  run.child.kill('SIGTERM');
  await expect(run.exited()).resolves.toBe(0);
  return body;
}

describe('[H380] clusterkit run of a .js script with only its .ts sibling there', () => {
  it('[H380] with --node-arg=--import=tsx runs server.ts', async () => {
    const run = startCli(['run', 'test/fixtures/ts-sibling/server.js', '-w', '1', '--node-arg=--import=tsx'], { runtime: runtimeDir(), env: { NODE_OPTIONS: '' } });
    await expect(servesThenStops(run)).resolves.toBe('hello from server.ts\n');
  });

  it('[H380] without a loader: "Script not found" names server.ts and the flag', async () => {
    const { code, stderr } = await cli(['run', 'test/fixtures/ts-sibling/server.js', '-w', '1'], { runtime: runtimeDir(), env: { NODE_OPTIONS: '' } });
    expect(code).toBe(2);
    expect(stderr).toContain(
      `Script not found: ${kServer}.js (relative to the current directory; with --cwd <dir>, to that directory first). ${kServer}.ts exists: run it with a TypeScript loader (--node-arg=--import=tsx), or build it and point at the built file.`,
    );
  });

  it('[H380] a config app whose script is ./server.js: runs server.ts with nodeArgs: ["--import=tsx"], is refused naming server.ts without', async () => {
    const app = { name: 'tss', script: './test/fixtures/ts-sibling/server.js', cwd: kRepoRoot, workers: 1 };
    const withLoader = tempProject({ 'clusterkit.config.json': JSON.stringify({ apps: [{ ...app, nodeArgs: ['--import=tsx'] }] }) });
    const run = startCli(['run', '--config', join(withLoader, 'clusterkit.config.json')], { runtime: runtimeDir(), env: { NODE_OPTIONS: '' } });
    await expect(servesThenStops(run)).resolves.toBe('hello from server.ts\n');
    const without = tempProject({ 'clusterkit.config.json': JSON.stringify({ apps: [app] }) });
    const { code, stderr } = await cli(['run', '--config', join(without, 'clusterkit.config.json')], { runtime: runtimeDir(), env: { NODE_OPTIONS: '' } });
    expect(code).toBe(2);
    expect(stderr).toContain(`script not found: ${kServer}.js. ${kServer}.ts exists: run it with a TypeScript loader (nodeArgs: ['--import=tsx']), or build it and point at the built file.`);
  });

  // Before: the ecosystem file's refusal said nodeArgs, clusterkit's key, and its warnings named nodeArgs, ignoreWatch, watchDelay.
  it("[H391] an ecosystem file's hints name PM2's keys: node_args for the missing ./server.js, and in the warnings of keys without an equivalent", async () => {
    const app = { name: 'tss391', script: './test/fixtures/ts-sibling/server.js', cwd: kRepoRoot, instances: 1 };
    const without = tempProject({ 'ecosystem.config.cjs': `module.exports = { apps: [${JSON.stringify(app)}] };\n` });
    const refused = await cli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: without, env: { NODE_OPTIONS: '' } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`script not found: ${kServer}.js. ${kServer}.ts exists: run it with a TypeScript loader (node_args: ['--import=tsx']), or build it and point at the built file.`);
    expect(refused.stderr).not.toContain('nodeArgs');
    // With PM2's node_args the same app runs server.ts; the keys without an equivalent name PM2's keys too.
    const extra = { node_args: '--import=tsx', interpreter: 'ts-node', watch_options: { usePolling: true }, disable_source_map_support: false };
    const withLoader = tempProject({ 'ecosystem.config.cjs': `module.exports = { apps: [${JSON.stringify({ ...app, ...extra })}] };\n` });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: withLoader, env: { NODE_OPTIONS: '' } });
    await expect(servesThenStops(run)).resolves.toBe('hello from server.ts\n');
    const file = join(withLoader, 'ecosystem.config.cjs');
    expect(run.stderr()).toContain(`clusterkit: warning: ${file}: apps[0] ("tss391"): PM2's "interpreter" ("ts-node") has no equivalent, and is not used: the script runs on the Node (or Bun) that runs clusterkit; for TypeScript on Node, node_args: ["--import=tsx"].`);
    expect(run.stderr()).toContain(`PM2's "watch_options" (an object) has no equivalent, and is not used: the watcher's options are not exposed; "ignore_watch" and "watch_delay" tune it.`);
    expect(run.stderr()).toContain(`PM2's "disable_source_map_support" (false) has no equivalent, and is not used: source maps are used only with node_args: ["--enable-source-maps"].`);
    expect(run.stderr()).not.toMatch(/nodeArgs|ignoreWatch|watchDelay/);
  });
});
