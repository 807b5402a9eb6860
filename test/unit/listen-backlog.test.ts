/**
 * The kernel's backlog of a listening socket, read from /proc/net/tcp and tcp6 just before a
 * shutdown closes a round-robin socket: the connections the close resets that no process saw
 * (src/primary/pool/listen-backlog.ts, H358).
 */
import net from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { backlogIn, kernelBacklog, procAddress } from '../../src/primary/pool/listen-backlog.js';
import { onCleanup } from '../helpers/cleanup.js';
import { spawnNode } from '../helpers/spawn.js';

describe('the kernel backlog of a listening socket', () => {
  it('[H358] reads an address as /proc/net/tcp and tcp6 write it, in either byte order', () => {
    expect(procAddress('127.0.0.1', 'IPv4', true)).toBe('0100007F');
    expect(procAddress('127.0.0.1', 'IPv4', false)).toBe('7F000001');
    expect(procAddress('0.0.0.0', 'IPv4', true)).toBe('00000000');
    expect(procAddress('::', 'IPv6', true)).toBe('00000000000000000000000000000000');
    expect(procAddress('::1', 'IPv6', true)).toBe('00000000000000000000000001000000');
    expect(procAddress('::ffff:127.0.0.1', 'IPv6', true)).toBe('0000000000000000FFFF00000100007F');
    expect(procAddress('fe80::1%eth0', 'IPv6', true)).toBe('000080FE000000000000000001000000');
    expect(procAddress('not an address', 'IPv4', true)).toBeUndefined();
    expect(procAddress('127.0.0.1', 'IPv6', true)).toBeUndefined();
  });

  it('[H358] takes the rx_queue of the one LISTEN row of the address and port, nothing when there is none or several', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1160 00000000:0000 0A 00000000:00000003 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0000000000000000 100 0 0 10 0',
      '   2: 0100007F:1160 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    expect(backlogIn(table, '0100007F', 0x1160)).toBe(3);
    expect(backlogIn(table, '00000000', 0x1f90)).toBe(0);
    expect(backlogIn(table, '0100007F', 0x1f90)).toBeUndefined();
    expect(backlogIn(`${table}\n   3: 0100007F:1160 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000        0 4 1`, '0100007F', 0x1160)).toBeUndefined();
  });

  it('[H358] counts the connections the kernel completed for a process that accepts none (Linux)', async () => {
    if (process.platform !== 'linux') return;
    // A process that listens, then never turns its event loop again: the kernel completes the
    // clients' connections into its backlog, and nothing accepts them.
    const listener = spawnNode(['-e', "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log('port ' + s.address().port); const c = new Int32Array(new SharedArrayBuffer(4)); for (;;) Atomics.wait(c, 0, 0, 1000); });"]);
    const port = Number((await listener.waitFor(/port (\d+)/))[1]);
    expect(kernelBacklog({ address: '127.0.0.1', family: 'IPv4', port })).toBe(0);
    const clients = Array.from({ length: 3 }, () => net.connect(port, '127.0.0.1'));
    for (const client of clients) {
      client.on('error', () => {});
      onCleanup(() => client.destroy());
    }
    await Promise.all(clients.map((client) => new Promise((resolve) => client.once('connect', resolve))));
    expect(kernelBacklog({ address: '127.0.0.1', family: 'IPv4', port })).toBe(3);
    // Not a socket of this address, or no port: unknown, not 0.
    expect(kernelBacklog({ address: '127.0.0.2', family: 'IPv4', port })).toBeUndefined();
    expect(kernelBacklog({ address: '127.0.0.1', family: 'IPv4' })).toBeUndefined();
  });
});
