/**
 * A port in use, said plainly: a cluster worker's `listen(port)` without a host fails in the
 * primary's bind with address null, and Node's words, `bind EADDRINUSE null:3501`, reached the
 * user as they were.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { readableListenError } from '../../src/runner/listen-error.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

/** The error Node gives a cluster worker whose listen failed in the primary's bind. */
function nodeListenError(code: string, address: string | null, port: number, syscall = 'bind'): Error {
  return Object.assign(new Error(`${syscall} ${code} ${address}:${port}`), { code, errno: -98, syscall, address, port });
}

describe('a listen error', () => {
  it('names the port and the address family, and keeps the code and the original as its cause', () => {
    const original = nodeListenError('EADDRINUSE', null, 3501);
    const readable = readableListenError(original) as Error & { code: string; port: number };
    expect(readable.message).toBe('listen EADDRINUSE: port 3501 (every address) is already in use on at least one of those addresses');
    expect(readable).toMatchObject({ code: 'EADDRINUSE', port: 3501, syscall: 'bind', address: null, cause: original });
    expect((readableListenError(nodeListenError('EADDRINUSE', '::', 80, 'listen')) as Error).message).toBe(
      'listen EADDRINUSE: port 80 (every IPv6 and IPv4 address, ::) is already in use on at least one of those addresses',
    );
    expect((readableListenError(nodeListenError('EADDRINUSE', '127.0.0.1', 8080)) as Error).message).toBe('listen EADDRINUSE: port 8080 (address 127.0.0.1, IPv4) is already in use');
    expect((readableListenError(nodeListenError('EACCES', null, 80)) as Error).message).toBe(
      'listen EACCES: port 80 (every address) needs privileges this process does not have (ports below 1024 usually do)',
    );
    // Not a TCP listen error: as it was.
    const pipe = Object.assign(new Error('listen EADDRINUSE: address already in use /tmp/app.sock'), { code: 'EADDRINUSE', syscall: 'listen', address: '/tmp/app.sock' });
    expect(readableListenError(pipe)).toBe(pipe);
    expect(readableListenError('boom')).toBe('boom');
  });

  it('of clusterkit run says "port N", never "null:N"', async () => {
    const occupied = net.createServer();
    await new Promise<void>((resolve) => occupied.listen(0, resolve));
    try {
      const port = (occupied.address() as net.AddressInfo).port;
      const project = tempProject({ 'app.cjs': `require('node:http').createServer((req, res) => res.end()).listen(${port});\n` });
      const result = await cli(['run', 'app.cjs', '-w', '1', '--max-startup-failures', '1'], { runtime: runtimeDir(), cwd: project });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`failed to listen: Error: listen EADDRINUSE: port ${port} (every address) is already in use`);
      expect(result.stderr).not.toContain('null:');
      // Not a cluster's: no cluster named (H403).
      expect(result.stderr).not.toContain('listens on it');
    } finally {
      occupied.close();
    }
  });

  // PM2 migrator t39 L8: starting on nc-demo's port said only "is already in use", once per attempt.
  it('[H403] a port another cluster of this user listens on: the cluster is named, with its primary pid and the command to stop it; a port of another process is not', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'app.cjs': `require('node:http').createServer((req, res) => res.end()).listen(Number(process.env.PORT));\n` });
    const holder = startCli(['run', 'app.cjs', '-w', '1', '--name', 'holder'], { runtime, cwd: project, env: { PORT: String(port) } });
    try {
      await holder.waitFor(/service holder started/);
      // The CLI process is the primary.
      const pid = holder.child.pid!;
      const result = await cli(['run', 'app.cjs', '-w', '1', '--name', 'second', '--max-startup-failures', '1'], { runtime, cwd: project, env: { PORT: String(port) } });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(
        new RegExp(`failed to listen: Error: listen EADDRINUSE: port ${port} \\(every address\\) is already in use on at least one of those addresses: the cluster "holder" \\(primary pid ${pid}\\) listens on it; stop it \\(clusterkit stop holder\\) or pick another port`),
      );
      expect((await cli(['stop', 'holder'], { runtime })).code).toBe(0);
      await expect(holder.exited()).resolves.toBe(0);
    } finally {
      cleanUpCli();
    }
  });
});
