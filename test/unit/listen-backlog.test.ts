/**
 * The kernel's backlog of a listening socket, read from /proc/net/tcp and tcp6 just before a
 * shutdown closes a round-robin socket: the connections the close resets that no process saw
 * (src/primary/pool/listen-backlog.ts, H358); only those whose client is still there (H370).
 */
import net from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { backlogIn, countKernelBacklog, kernelBacklog, liveBacklogIn, procAddress, readKernelBacklog } from '../../src/primary/pool/listen-backlog.js';
import { onCleanup } from '../helpers/cleanup.js';
import { spawnNode } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';

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

  it('[H370] counts the rows of the backlog one by one: the port (and address, unless a wildcard), ESTABLISHED, inode 0', () => {
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
    const row = (sl: number, local: string, remote: string, state: string, inode: string) =>
      `  ${sl}: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 20 4 30 10 -1`;
    const table = [
      header,
      '   0: 0100007F:1160 00000000:0000 0A 00000000:00000005 00:00000000 00000000  1000        0 11076486 4 0000000000000000 100 0 0 10 0',
      row(1, '0100007F:1160', '0100007F:BD82', '01', '0'), // in the backlog, alive
      row(2, '0100007F:1160', '0100007F:BD8A', '08', '0'), // in the backlog, its client sent FIN
      row(3, '0100007F:1160', '0100007F:BD8C', '01', '11076490'), // accepted: a process holds it
      row(4, '0100007F:BD82', '0100007F:1160', '01', '11076487'), // the client's side
      row(5, '0100007F:1160', '0100007F:BD90', '06', '0'), // TIME_WAIT
      row(6, '0100007F:1160', '0100007F:BD94', '03', '0'), // SYN_RECV: not completed
      row(7, '0200007F:1160', '0100007F:BD98', '01', '0'), // another address, same port
      row(8, '0100007F:1161', '0100007F:BD9A', '01', '0'), // another port
      row(9, '0100007F:1160', '0100007F:BD9C', '01', '0'), // in the backlog, alive
    ].join('\n');
    expect(liveBacklogIn(table, '0100007F', 0x1160)).toBe(2);
    // A socket on every address: its connections carry the concrete address.
    expect(liveBacklogIn(table, '00000000', 0x1160)).toBe(3);
    expect(liveBacklogIn(table, '0100007F', 0x1f90)).toBe(0);
    // tcp6: a dual-stack socket on :: holds IPv4 clients as ::ffff:a.b.c.d.
    const table6 = [
      header,
      row(0, '00000000000000000000000000000000:1160', '00000000000000000000000000000000:0000', '0A', '11079148'),
      row(1, '0000000000000000FFFF00000100007F:1160', '0000000000000000FFFF00000100007F:D210', '01', '0'),
      row(2, '00000000000000000000000001000000:1160', '00000000000000000000000001000000:BF98', '01', '0'),
      row(3, '00000000000000000000000001000000:1160', '00000000000000000000000001000000:BFA8', '08', '0'),
    ].join('\n');
    expect(liveBacklogIn(table6, '00000000000000000000000000000000', 0x1160)).toBe(2);
    expect(liveBacklogIn(table6, '00000000000000000000000001000000', 0x1160)).toBe(1);
    // Nothing read: unknown; an empty backlog: its LISTEN row says so, the table is not read.
    expect(countKernelBacklog(undefined)).toBeUndefined();
    expect(countKernelBacklog({ address: '0100007F', port: 0x1160, queued: 0 })).toBe(0);
    expect(countKernelBacklog({ address: '0100007F', port: 0x1160, queued: 5, table: [Buffer.from(table.slice(0, 400)), Buffer.from(table.slice(400))] })).toBe(2);
  });

  it('[H370] leaves out the connections of the backlog whose client reset them (Linux)', async () => {
    if (process.platform !== 'linux') return;
    const listener = spawnNode(['-e', "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log('port ' + s.address().port); const c = new Int32Array(new SharedArrayBuffer(4)); for (;;) Atomics.wait(c, 0, 0, 1000); });"]);
    const port = Number((await listener.waitFor(/port (\d+)/))[1]);
    const clients = Array.from({ length: 3 }, () => net.connect(port, '127.0.0.1'));
    for (const client of clients) {
      client.on('error', () => {});
      onCleanup(() => client.destroy());
    }
    await Promise.all(clients.map((client) => new Promise((resolve) => client.once('connect', resolve))));
    expect(kernelBacklog({ address: '127.0.0.1', family: 'IPv4', port })).toBe(3);
    const hexPort = (value: number) => value.toString(16).toUpperCase().padStart(4, '0');
    const gone = clients.slice(0, 2).map((client) => `0100007F:${hexPort(port)} 0100007F:${hexPort(client.localPort!)} `);
    for (const client of clients.slice(0, 2)) client.resetAndDestroy();
    // Once the kernel has taken the resets: their rows left the table, the backlog still counts them.
    await until(() => !gone.some((pair) => readFileSync('/proc/net/tcp', 'latin1').includes(pair)), undefined, 'the reset connections leave /proc/net/tcp');
    expect(backlogIn(readFileSync('/proc/net/tcp', 'latin1'), '0100007F', port)).toBe(3);
    expect(kernelBacklog({ address: '127.0.0.1', family: 'IPv4', port })).toBe(1);
    // Read, then counted (as a shutdown does, the socket closed in between): the same.
    expect(countKernelBacklog(readKernelBacklog({ address: '127.0.0.1', family: 'IPv4', port }))).toBe(1);
  });
});
