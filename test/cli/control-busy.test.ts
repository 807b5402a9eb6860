/**
 * [H430] A primary whose control socket is full (every one of its connections busy) refuses a
 * new one with "already has N connections open". The client asks again after a short jittered
 * pause for up to 10 s, and, still refused, says the primary is busy; before, `status` blamed it
 * ("may be blocked, out of file descriptors, or exiting") and other commands failed at once.
 * The cap is filled with real connections whose `scale` is held unanswered.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { startControlServer, type ControlHandlers } from '../../src/control/control-server.js';
import { onCleanup } from '../helpers/cleanup.js';
import { cleanUpCli, cli } from './cli-process.js';

afterEach(() => cleanUpCli());

const status = { name: 'full', pid: process.pid, state: 'running', workers: [] } as unknown as ClusterStatus;

/** A server of `maxConnections` 2 whose 2 connections are busy (a `scale` held) until `release`. */
async function fullServer(): Promise<{ runtime: string; release: () => void }> {
  const runtime = mkdtempSync(join(tmpdir(), 'ck-'));
  onCleanup(() => rmSync(runtime, { recursive: true, force: true }));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let started = 0;
  let onBothBusy!: () => void;
  const bothBusy = new Promise<void>((resolve) => (onBothBusy = resolve));
  const handlers: ControlHandlers = {
    status: () => status,
    reload: async () => ({}),
    // Runs once per held connection: once twice, both are busy answering.
    scale: async (count) => {
      if (++started === 2) onBothBusy();
      await held;
      return { count };
    },
    stop: async () => ({}),
    afterStop: () => {},
    events: (after) => ({ events: [], last: after, missed: 0 }),
  };
  const server = await startControlServer('full', handlers, join(runtime, 'clusterkit'), { maxConnections: 2, idleTimeoutMs: 60_000, lineTimeoutMs: 60_000 });
  onCleanup(() => server.close());
  onCleanup(() => release());
  for (let index = 0; index < 2; index++) {
    const socket = net.connect(server.path);
    socket.on('error', () => {});
    onCleanup(() => socket.destroy());
    socket.write(`${JSON.stringify({ id: 1, command: 'scale', count: 2 })}\n`);
  }
  await bothBusy;
  return { runtime, release };
}

describe('[H430] a control socket at its connection cap', () => {
  it('[H430] a request refused as busy is asked again, and answered once there is room', async () => {
    const { runtime, release } = await fullServer();
    // The first ask's connection closes (refused): then the cap makes room, and the next ask gets in.
    const onSocket = ({ socket }: { socket: net.Socket }) => socket.once('close', release);
    subscribe('net.client.socket', onSocket as (message: unknown) => void);
    onCleanup(() => unsubscribe('net.client.socket', onSocket as (message: unknown) => void));
    const answer = await controlRequest('full', 'status', { directory: join(runtime, 'clusterkit'), timeoutMs: 30_000 });
    expect(answer).toMatchObject({ name: 'full' });
  });

  it('[H430] clusterkit status says the primary is busy, not blocked, when it stays full', async () => {
    const { runtime } = await fullServer();
    const { code, stderr } = await cli(['status', 'full'], { runtime, ms: 60_000 });
    expect(code).toBe(1);
    expect(stderr).toMatch(/full's primary is busy: it already has 2 control connections open .*; try again/);
    expect(stderr).not.toMatch(/blocked/);
    // One period, no empty advice after it (H440: it said `try again.. `).
    expect(stderr).toMatch(/; try again\.\n$/);
  }, 90_000);
});
