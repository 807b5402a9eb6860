/**
 * A script loaded as `node <script>` would load it, with real processes: a file of an extension
 * Node's ES module loader has no format for runs as CommonJS (H411); a load that no retry can
 * pass (import syntax in a file Node runs as CommonJS, such an extension in a "type": "module"
 * package) is refused once, before any worker forks, with what to do (H411, H412).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kCommonJs = `const http = require('node:http');
http.createServer((request, response) => response.end('ok')).listen(0, '127.0.0.1', () => console.log('listening as', typeof module));
`;
const kModule = `import http from 'node:http';
http.createServer((request, response) => response.end('ok')).listen(0, '127.0.0.1');
`;

describe('a script of an extension Node has no format for', () => {
  // Before: `threw on import: TypeError: Unknown file extension ".bak"` three times, then exit 1.
  it('[H411] server.js.bak and www/server.cjs.txt run as CommonJS, as node runs them', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'package.json': '{ "name": "p", "type": "commonjs" }', 'server.js.bak': kCommonJs, 'www/server.cjs.txt': kCommonJs });
    for (const [script, name] of [['server.js.bak', 'fmt-bak'], ['www/server.cjs.txt', 'fmt-txt']] as const) {
      const run = startCli(['run', script, '--name', name, '-w', '1'], { runtime, cwd: project });
      await run.waitFor(new RegExp(`service ${name} started: 1 worker`));
      await run.waitFor(new RegExp(`\\[${name}:1\\] listening as object`));
      process.kill(run.child.pid!, 'SIGTERM');
      await expect(run.exited()).resolves.toBe(0);
      expect(run.output()).not.toContain('Unknown file extension');
    }
  });

  it('[H411] in a "type": "module" package, where node refuses it too, it is refused at once (exit 2) with the names to give it', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'package.json': '{ "name": "p", "type": "module" }', 'server.js.bak': kCommonJs });
    const result = await cli(['run', 'server.js.bak', '--name', 'fmt-esm-bak', '-w', '2'], { runtime, cwd: project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`has the extension ".bak", which Node has no format for: it runs such a file as CommonJS, but not in a "type": "module" package`);
    expect(result.stderr).toContain('Rename it server.cjs if it is CommonJS, or server.mjs if it is an ES module.');
    expect(result.stderr).not.toContain('could not start');
  });
});

describe('an ES module that Node runs as CommonJS', () => {
  // Before: Node's "Cannot use import statement outside a module" for each worker, three times a slot, then exit 1.
  it('[H412] import syntax in a .js file of a "type": "commonjs" package is refused once, before any worker, with the rename or the "type" to set', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'package.json': '{ "name": "p", "type": "commonjs" }', 'server.js': kModule, 'legacy.cjs': `#!/usr/bin/env node\n${kModule}`, 'only-export.js': 'export const x = 1;\n' });
    const result = await cli(['run', 'server.js', '--name', 'fmt-import', '-w', '2'], { runtime, cwd: project });
    expect(result.code).toBe(2);
    const advice = `is an ES module (it has an import statement), but Node runs it as CommonJS: the nearest package.json (${project}/package.json) has "type": "commonjs", so node server.js fails too, and so would every worker. Rename it server.mjs (a .mjs file is an ES module whatever package.json says), or set "type": "module" in ${project}/package.json`;
    expect(result.stderr.split(advice).length - 1).toBe(1);
    expect(result.stderr).not.toContain('could not start');
    const cjs = await cli(['run', 'legacy.cjs', '--name', 'fmt-cjs', '-w', '1'], { runtime, cwd: project });
    expect(cjs.code).toBe(2);
    expect(cjs.stderr).toContain('but Node runs it as CommonJS: a .cjs file is CommonJS whatever package.json says, so node legacy.cjs fails too, and so would every worker. Rename it legacy.mjs');
    const exported = await cli(['run', 'only-export.js', '--name', 'fmt-export', '-w', '1'], { runtime, cwd: project });
    expect(exported.code).toBe(2);
    expect(exported.stderr).toContain('is an ES module (it has an export statement)');
  });

  it('[H412] a package without "type" runs it, as node detects the syntax; a plain syntax error is left to the worker', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'package.json': '{ "name": "p" }', 'server.js': `${kModule}console.log('esm up');\n`, 'broken.cjs': 'const x = ;\n' });
    const run = startCli(['run', 'server.js', '--name', 'fmt-detect', '-w', '1'], { runtime, cwd: project });
    await run.waitFor(/service fmt-detect started: 1 worker/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
    const broken = await cli(['run', 'broken.cjs', '--name', 'fmt-broken', '-w', '1', '--max-startup-failures', '1'], { runtime, cwd: project });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('SyntaxError');
    expect(broken.stderr).not.toContain('is an ES module');
  });
});
