/**
 * The dashboard's server without a browser: a real control socket with canned answers behind
 * it, so each test runs in milliseconds. The browser test drives a real cluster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { startControlServer, type ControlHandlers, type ControlServer } from '../../src/control/control-server.js';
import { EventLog } from '../../src/control/event-log.js';
import { ClusterFeed } from '../../src/cli/dashboard/cluster-feed.js';
import { clusterControl } from '../../src/cli/dashboard/cluster-control.js';
import { inFlagNames } from '../../src/cli/flag-names.js';
import { kMaxConnections, kMaxQueuedBytes, kMaxStreams, startDashboardServer, type DashboardServer } from '../../src/cli/dashboard/dashboard-server.js';
import { isLoopbackAddress, RequestGuard } from '../../src/cli/dashboard/request-guard.js';
import { testPrimary } from '../helpers/primary.js';
import { rawRequest } from '../helpers/raw-http.js';
import { onCleanup } from '../helpers/cleanup.js';
import { openStream, request } from './dashboard-client.js';

const kToken = 'test-token-0123456789abcdef';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function worker(id: number, slot: number, messages: number) {
  return {
    id, pid: 1000 + id, slot, name: undefined, state: 'ready', uptimeMs: 5_000, restarts: 0, crashes: 0,
    rssBytes: 50 * 1024 * 1024, heapUsedBytes: 5 * 1024 * 1024, heapTotalBytes: 8 * 1024 * 1024,
    eventLoopDelayMs: 0.5, eventLoopDelayP99Ms: 2, cpuPercent: 1.5, messagesIn: messages, messagesOut: messages, pending: 0, protocolErrors: 0,
  };
}

/** A control socket that answers like a 2-worker primary, and a dashboard server reading it. */
/** `scale`: the control socket's scale handler (default: records the call and answers the status). */
async function setUp(
  options: { token?: string | undefined; scale?: (count: number) => Promise<unknown>; reload?: () => Promise<unknown>; requestTimeoutMs?: number; inFlagNames?: ControlHandlers['inFlagNames'] } = { token: kToken },
) {
  const directory = join(mkdtempSync(join(tmpdir(), 'ck-')), 'clusterkit');
  cleanups.push(() => rmSync(join(directory, '..'), { recursive: true, force: true }));
  const log = new EventLog();
  const calls: string[] = [];
  let messages = 0;
  const status = (): ClusterStatus => {
    messages += 10;
    return {
      name: 'web', pid: process.pid, state: 'running', startedAt: Date.now() - 5_000, uptimeMs: 5_000, script: '/srv/web.js',
      targetWorkers: 2, nodeVersion: process.version, workers: [worker(1, 0, messages), worker(2, 1, messages)], protocolErrors: 0,
    } as ClusterStatus;
  };
  const handlers: ControlHandlers = {
    status,
    reload:
      options.reload ??
      (async () => {
        calls.push('reload');
        return { workers: 2 };
      }),
    scale:
      options.scale ??
      (async (count) => {
        calls.push(`scale ${count}`);
        return status();
      }),
    stop: async () => ({}),
    afterStop: () => {},
    events: (after) => log.read(after),
    inFlagNames: options.inFlagNames,
  };
  let control: ControlServer = await startControlServer('web', handlers, directory);
  cleanups.push(() => control.close());
  const feed = new ClusterFeed({ name: 'web', intervalMs: 50, directory });
  await feed.start();
  cleanups.push(() => feed.stop());
  const server: DashboardServer = await startDashboardServer({
    feed,
    host: '127.0.0.1',
    port: 0,
    token: 'token' in options ? options.token : kToken,
    hostNames: [],
    control: clusterControl('web', directory),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
  });
  cleanups.push(() => server.close());
  return {
    port: server.port,
    log,
    calls,
    stopPrimary: () => control.close(),
    restartPrimary: async () => {
      control = await startControlServer('web', handlers, directory);
    },
  };
}

const bearer = { Authorization: `Bearer ${kToken}`, 'Content-Type': 'application/json' };

/** Sends `start`, then `byte` every 20 ms until the server closes the connection; what it answered. */
function trickle(port: number, start: string, byte: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(start);
      timer = setInterval(() => socket.write(byte), 20);
    });
    const release = onCleanup(() => {
      clearInterval(timer);
      socket.destroy();
    });
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    socket.on('close', () => {
      release();
      resolve(received);
    });
  });
}

describe('dashboard server', () => {
  it('serves the page and uPlot from the package, under a policy that loads nothing from elsewhere', async () => {
    const { port } = await setUp();
    const page = await request(port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="dashboard.js">');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'; script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const uplot = await request(port, '/vendor/uPlot.iife.min.js');
    expect(uplot.status).toBe(200);
    expect(uplot.body).toMatch(/^\/\*! https:\/\/github.com\/leeoniya\/uPlot/);
    for (const path of ['/dashboard.js', '/charts.js', '/markers.js', '/timeline.js', '/format.js', '/dashboard.css', '/vendor/uPlot.min.css']) {
      expect((await request(port, path)).status).toBe(200);
    }
    expect((await request(port, '/../package.json')).status).toBe(404);
    expect((await request(port, '/%2e%2e/package.json')).status).toBe(404);
  });

  it('[H604] streams a snapshot, then a sample every interval, and each new lifecycle event once', async () => {
    const { port, log } = await setUp();
    const stream = await openStream(port);
    cleanups.push(() => stream.close());
    const snapshot = await stream.next('snapshot');
    // [H604] Every key, `offline` too (null while the cluster answers): before, absent.
    expect(snapshot).toMatchObject({ name: 'web', allowControl: true, intervalMs: 50, historyMs: 600_000, missed: 0, events: [], offline: null });
    expect(snapshot.status.workers).toHaveLength(2);
    const { sample } = await stream.next('tick');
    // [slot, worker id, rss MB, heap MB, loop mean, loop p99, cpu %, messages/s]
    expect(sample.slots).toEqual([
      [0, 1, 50, 5, 0.5, 2, 1.5, expect.any(Number)],
      [1, 2, 50, 5, 0.5, 2, 1.5, expect.any(Number)],
    ]);
    expect(sample.slots[0][7]).toBeGreaterThan(0);
    log.append({ type: 'workerExit', workerId: 1, pid: 1001, slot: 0, code: null, signal: 'SIGKILL', expected: false });
    log.append({ type: 'workerRestart', workerId: 3, pid: 1003, slot: 0, previousId: 1, delayMs: 100, attempt: 1 });
    const update = await stream.next('events');
    expect(update).toEqual({
      missed: 0,
      events: [expect.objectContaining({ seq: 1, type: 'workerExit', signal: 'SIGKILL' }), expect.objectContaining({ seq: 2, type: 'workerRestart', delayMs: 100 })],
    });
    await stream.next('tick');
    log.append({ type: 'reload', workers: 2 });
    expect((await stream.next('events')).events).toEqual([expect.objectContaining({ seq: 3, type: 'reload' })]);
  });

  it('refuses a control request without the token (403), with a wrong one, or by GET; runs it with the token', async () => {
    const { port, calls } = await setUp();
    const missing = await request(port, '/api/reload', { method: 'POST', body: '{}' });
    expect(missing.status).toBe(403);
    expect(JSON.parse(missing.body).error).toMatch(/needs the token/);
    expect((await request(port, '/api/reload', { method: 'POST', headers: { Authorization: 'Bearer wrong' }, body: '{}' })).status).toBe(403);
    expect((await request(port, '/api/scale', { method: 'POST', headers: { Authorization: `Bearer ${kToken}x` }, body: '{"count":3}' })).status).toBe(403);
    expect((await request(port, '/api/reload', { headers: bearer })).status).toBe(405);
    expect(calls).toEqual([]);
    const reload = await request(port, '/api/reload', { method: 'POST', headers: bearer, body: '{}' });
    expect(reload.status).toBe(200);
    expect(JSON.parse(reload.body)).toEqual({ workers: 2, unclean: 0, requestsCut: 0, message: 'reloaded web: 2 workers replaced, no request cut off' });
    expect((await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":0}' })).status).toBe(400);
    expect((await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":"3"}' })).status).toBe(400);
    expect((await request(port, '/api/scale', { method: 'POST', headers: bearer, body: 'x'.repeat(5_000) })).status).toBe(413);
    expect((await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":3}' })).status).toBe(200);
    expect(calls).toEqual(['reload', 'scale 3']);
  });

  // Hostile t88 #1: `curl -I` of the stream never got its headers (Node sends a HEAD answer's at end(), which a stream never calls).
  it('[H764] answers HEAD /api/stream at once with the stream\'s headers, holding no stream', async () => {
    const { port } = await setUp();
    const head = await request(port, '/api/stream', { method: 'HEAD', headers: bearer });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(head.body).toBe('');
    // No place taken: as many real streams as allowed still open and get their snapshot.
    for (let i = 0; i < 3; i++) expect((await request(port, '/api/stream', { method: 'HEAD', headers: bearer })).status).toBe(200);
    const live = await openStream(port, bearer);
    await expect(live.next('snapshot')).resolves.toBeDefined();
    live.close();
  });

  // Hostile t88 #2: characters were counted, so 1,418 bytes of "é" passed "at most 1024 bytes".
  it('[H765] counts a control request body in bytes, as its limit says', async () => {
    const { port, calls } = await setUp();
    const wide = await request(port, '/api/scale', { method: 'POST', headers: bearer, body: `{"count":2,"x":"${'é'.repeat(700)}"}` });
    expect(wide.status).toBe(413);
    expect(JSON.parse(wide.body).error).toBe('A control request body is at most 1024 bytes.');
    // Multi-byte text within the limit is read whole (a chunk may end inside a character).
    const fits = await request(port, '/api/scale', { method: 'POST', headers: bearer, body: `{"count":2,"x":"${'é'.repeat(400)}"}` });
    expect(JSON.parse(fits.body).error).toBe('"scale" does not take "x": it takes "count".');
    expect(calls).toEqual([]);
  });

  // Hostile t83 #11: `{"count":2,"count":3}` scaled to 3 (JSON.parse keeps the last), where the control socket refuses it (H573).
  it('[H733] refuses a control request body that gives a field twice, running nothing', async () => {
    const { port, calls } = await setUp();
    const twice = await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":2,"count":3}' });
    expect(twice.status).toBe(400);
    expect(JSON.parse(twice.body).error).toBe('The request body gives "count" twice; JSON would keep the last one, so nothing was done. Give each field once, as in {"count": 2}.');
    expect((await request(port, '/api/reload', { method: 'POST', headers: bearer, body: '{"updateEnv":false,"updateEnv":true}' })).status).toBe(400);
    expect(calls).toEqual([]);
  });

  // Before: "\"count\" must be an integer..." and, from the primary, 'The "count" option must be
  // at most 1, the "maxWorkers" option': API names the page's reader never typed. The control
  // socket here is clusterkit run's, which answers in its flags (H359).
  it('[H359] words scale errors with the worker count and the CLI flags (--max-workers) of a clusterkit run primary, as clusterkit scale does', async () => {
    const primary = testPrimary({ workerCount: 1, maxWorkers: 2 });
    await primary.start();
    const { port } = await setUp({ token: kToken, scale: (count) => primary.scale(count), inFlagNames: (message) => inFlagNames(message) });
    const bad = await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":0}' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toBe('The worker count must be an integer from 1 to 1024. Received 0.');
    const over = await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":3}' });
    expect(over.status).toBe(409);
    const { error, code } = JSON.parse(over.body) as { error: string; code: string };
    expect(code).toBe('ERR_INVALID_OPTION');
    expect(error).toBe('The worker count must be at most 2, the --max-workers value, which changes only on a restart (restart the cluster with a higher one to run more workers). Received 3.');
    expect(error).not.toMatch(/maxWorkers|"count"/);
    expect((await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":2}' })).status).toBe(200);
    expect(primary.workers).toHaveLength(2);
  });

  // Retest t36 N7: a primary of the user's own code was given maxWorkers; it has no --max-workers.
  it('[H359] words the scale errors of a primary of the user\'s own code in the options it was given (maxWorkers)', async () => {
    const primary = testPrimary({ workerCount: 1, maxWorkers: 2 });
    await primary.start();
    const { port } = await setUp({ token: kToken, scale: (count) => primary.scale(count) });
    const over = await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":3}' });
    expect(over.status).toBe(409);
    expect(JSON.parse(over.body)).toEqual({
      error: 'The "count" option must be at most 2, the "maxWorkers" option, which changes only on a restart (restart the cluster with a higher one to run more workers). Received 3.',
      code: 'ERR_INVALID_OPTION',
    });
  });

  // Before: `{"count":1}` 200 and "Scaled to 1 workers" while the scale-down cut 5 requests off.
  it('answers scale and reload with how the stopped workers went, in the words clusterkit scale and reload print', async () => {
    const stopsOf: Array<{ unclean: number; requestsCut: number }> = [{ unclean: 2, requestsCut: 5 }, { unclean: 0, requestsCut: 0 }];
    const answer = (workers: number) => ({ name: 'web', workers: Array.from({ length: workers }, (_, index) => worker(index + 1, index, 0)), stops: stopsOf.shift() });
    const { port } = await setUp({ token: kToken, scale: async (count) => answer(count), reload: async () => ({ workers: 1, graceful: 0, failed: 1, killed: 0, requestsCut: 3 }) });
    const cut = await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":1}' });
    expect(cut.status).toBe(200);
    expect(JSON.parse(cut.body)).toEqual({
      count: 1, pids: [1001], unclean: 2, requestsCut: 5,
      message: "scaled web to 1 worker (pid 1001), but 5 requests cut off and 2 stopped workers did not stop cleanly (see the cluster's log)",
    });
    const clean = await request(port, '/api/scale', { method: 'POST', headers: bearer, body: '{"count":2}' });
    expect(JSON.parse(clean.body)).toMatchObject({ requestsCut: 0, unclean: 0, message: 'scaled web to 2 workers (pids 1001, 1002)' });
    const reload = await request(port, '/api/reload', { method: 'POST', headers: bearer, body: '' });
    expect(JSON.parse(reload.body)).toEqual({
      workers: 1, unclean: 1, requestsCut: 3,
      message: "reloaded web: 1 worker replaced, but 3 requests cut off and 1 old worker did not stop cleanly (see the cluster's log)",
    });
  });

  it('[H25] refuses a body field the control socket would refuse, naming it, and says when a body is not JSON', async () => {
    const { port, calls } = await setUp();
    const answer = async (path: string, body: string) => {
      const reply = await request(port, path, { method: 'POST', headers: bearer, body });
      return { status: reply.status, error: (JSON.parse(reply.body) as { error?: string }).error };
    };
    expect(await answer('/api/scale', '{"count":2,"force":true}')).toEqual({ status: 400, error: '"scale" does not take "force": it takes "count".' });
    expect(await answer('/api/scale', '{"cont":2}')).toEqual({ status: 400, error: '"scale" does not take "cont": it takes "count". Did you mean "count"?' });
    expect(await answer('/api/reload', '{"workers":2}')).toEqual({ status: 400, error: '"reload" does not take "workers": it takes "updateEnv".' });
    expect(await answer('/api/scale', 'notjson')).toEqual({ status: 400, error: 'The request body is not JSON; send a JSON object such as {"count": 2}.' });
    expect(await answer('/api/reload', 'notjson')).toEqual({ status: 400, error: 'The request body is not JSON; send a JSON object such as {}.' });
    expect(await answer('/api/scale', '2.5')).toEqual({ status: 400, error: 'The request body must be a JSON object such as {"count": 2}. Received 2.5.' });
    expect(await answer('/api/scale', '[2]')).toMatchObject({ status: 400 });
    expect(calls).toEqual([]);
  });

  it('[H32] refuses a Host with a port past 65535 (400), and cuts a request whose body or headers trickle (408) after requestTimeoutMs', async () => {
    const { port } = await setUp({ token: kToken, requestTimeoutMs: 300 });
    for (const host of ['localhost:99999', '127.0.0.1:65536', '[::1]:70000']) {
      const reply = await rawRequest(port, '/api/snapshot', { Host: host });
      expect(reply.status).toBe(400);
      expect(reply.body).toContain('has a port outside 0-65535');
    }
    expect((await rawRequest(port, '/api/snapshot', { Host: 'localhost:65535' })).status).toBe(200);
    // A body that never completes, and headers that never end, one byte at a time.
    const body = await trickle(port, `POST /api/scale HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${kToken}\r\nContent-Length: 100\r\n\r\n{`, ' ');
    expect(body).toMatch(/^HTTP\/1\.1 408 /);
    const headers = await trickle(port, 'GET /api/snapshot HTTP/1.1\r\nHost: localhost\r\n', 'X');
    expect(headers).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin (cross-site) on every endpoint, token or not', async () => {
    const { port, calls } = await setUp();
    for (const path of ['/', '/api/stream', '/api/snapshot', '/vendor/uPlot.iife.min.js']) {
      const rebound = await request(port, path, { headers: { Host: `evil.example:${port}` } });
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body).error).toMatch(/does not name this machine/);
      expect((await request(port, path, { headers: { Origin: 'http://evil.example' } })).status).toBe(403);
    }
    expect((await request(port, '/api/reload', { method: 'POST', headers: { ...bearer, Host: `evil.example:${port}` }, body: '{}' })).status).toBe(403);
    expect((await request(port, '/api/reload', { method: 'POST', headers: { ...bearer, Origin: 'http://evil.example' }, body: '{}' })).status).toBe(403);
    expect((await request(port, '/api/reload', { method: 'POST', headers: { ...bearer, Origin: 'null' }, body: '{}' })).status).toBe(403);
    expect((await request(port, '/api/reload', { method: 'OPTIONS', headers: { Origin: `http://localhost:${port}` } })).status).toBe(403);
    expect((await request(port, '/', { headers: { Host: 'evil.example' } })).status).toBe(403);
    expect(calls).toEqual([]);
    // This machine's own names pass, and a page may call its own origin.
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      expect((await request(port, '/', { headers: { Host: host } })).status).toBe(200);
    }
    const sameOrigin = await request(port, '/api/reload', { method: 'POST', headers: { ...bearer, Origin: `http://127.0.0.1:${port}` }, body: '{}' });
    expect(sameOrigin.status).toBe(200);
  });

  it('[H15] answers a malformed request target 400 (not 500), serves // paths as paths (404, not the page), and checks Host and absolute-form targets', async () => {
    const { port } = await setUp();
    const host = { Host: `127.0.0.1:${port}` };
    // Before: 500 "Invalid URL"; the page for //dashboard.js; 200 for Host 1.2.3.4 and for an
    // absolute-form target naming another host.
    for (const target of ['http://[', 'http://', '*', 'dashboard.js', 'http:/x']) {
      expect({ target, status: (await rawRequest(port, target, host)).status }).toEqual({ target, status: 400 });
    }
    for (const target of ['//dashboard.js', '//', '//evil.example/api/snapshot']) {
      const reply = await rawRequest(port, target, host);
      expect({ target, status: reply.status }).toEqual({ target, status: 404 });
      expect(reply.body).not.toContain('<html');
    }
    expect((await rawRequest(port, '/dashboard.js?x=1', host)).status).toBe(200);
    // Any IP literal is not this machine's name: only loopback addresses, names and the bound host.
    for (const name of ['1.2.3.4', '192.168.0.10', '[2001:db8::1]', '0.0.0.0', '[::]']) {
      expect({ name, status: (await rawRequest(port, '/api/snapshot', { Host: `${name}:${port}` })).status }).toEqual({ name, status: 403 });
    }
    for (const name of ['127.0.0.1', '127.1.2.3', '[::1]', '[::ffff:127.0.0.1]', 'LOCALHOST']) {
      expect({ name, status: (await rawRequest(port, '/api/snapshot', { Host: `${name}:${port}` })).status }).toEqual({ name, status: 200 });
    }
    // An absolute-form target names its host: it must pass the same check as Host.
    const foreign = await rawRequest(port, 'http://evil.example/api/snapshot', host);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatch(/request target names the host \\"evil\.example\\"/);
    expect((await rawRequest(port, `http://1.2.3.4:${port}/api/snapshot`, host)).status).toBe(403);
    expect((await rawRequest(port, `http://localhost:${port}/api/snapshot`, host)).status).toBe(200);
  });

  // Before: Node kept the first Host (and the first Authorization) in request.headers, so
  // `Host: localhost` then `Host: evil.example` passed the guard (200) and a control request
  // with two Authorization headers was judged by the first alone.
  it('[H24] refuses a request that repeats Host, Origin or Authorization with 400, on every endpoint', async () => {
    const { port, calls } = await setUp();
    const local = `127.0.0.1:${port}`;
    const cases: Array<{ method: string; target: string; headers: Array<[string, string]>; repeated: string }> = [];
    for (const target of ['/', '/api/snapshot', '/api/stream', '/dashboard.js', `http://${local}/api/snapshot`]) {
      cases.push({ method: 'GET', target, headers: [['Host', local], ['Host', 'evil.example']], repeated: 'Host' });
      cases.push({ method: 'GET', target, headers: [['Host', local], ['host', local]], repeated: 'Host' });
      cases.push({ method: 'GET', target, headers: [['Host', local], ['Origin', `http://${local}`], ['ORIGIN', 'http://evil.example']], repeated: 'Origin' });
    }
    for (const target of ['/api/reload', '/api/scale']) {
      cases.push({ method: 'POST', target, headers: [['Host', local], ['Authorization', bearer.Authorization], ['Authorization', 'Bearer wrong']], repeated: 'Authorization' });
      cases.push({ method: 'POST', target, headers: [['Host', 'evil.example'], ['Host', local], ['Authorization', bearer.Authorization]], repeated: 'Host' });
    }
    for (const { method, target, headers, repeated } of cases) {
      const reply = await rawRequest(port, target, headers, method);
      expect({ target, repeated, status: reply.status }).toEqual({ target, repeated, status: 400 });
      expect(JSON.parse(reply.body)).toEqual({ error: `The request has more than one ${repeated} header; send it once.` });
    }
    expect(calls).toEqual([]);
    // Once each, the same headers pass.
    expect((await rawRequest(port, '/api/snapshot', [['Host', local], ['Origin', `http://${local}`]])).status).toBe(200);
    expect((await rawRequest(port, '/api/reload', [['Host', local], ['Authorization', bearer.Authorization]], 'POST')).status).not.toBe(400);
  });

  it('[H15] accepts any address of the machine only when it listens on a non-loopback address on purpose', () => {
    const open = new RequestGuard({ token: undefined, hostNames: ['0.0.0.0'], acceptsAnyAddress: true });
    const closed = new RequestGuard({ token: undefined, hostNames: ['127.0.0.1'] });
    const fact = (host: string) => ({ method: 'GET', host, origin: undefined, authorization: undefined });
    expect(open.checkRequest(fact('192.168.0.10:9716')).ok).toBe(true);
    expect(open.checkRequest(fact('evil.example:9716')).ok).toBe(false);
    expect(closed.checkRequest(fact('192.168.0.10:9716')).ok).toBe(false);
    const bound = new RequestGuard({ token: undefined, hostNames: ['10.0.0.5', 'box.internal'] });
    expect(bound.checkRequest(fact('10.0.0.5:9716')).ok).toBe(true);
    expect(bound.checkRequest(fact('box.internal')).ok).toBe(true);
    expect(bound.checkRequest(fact('10.0.0.6:9716')).ok).toBe(false);
    expect(['::ffff:7f00:1', '::ffff:127.9.9.9', '127.0.0.1', '::1'].every(isLoopbackAddress)).toBe(true);
    expect(['::ffff:10.0.0.1', '128.0.0.1', '::2', 'localhost'].some(isLoopbackAddress)).toBe(false);
  });

  it('is read-only without --allow-control: no control endpoint answers, whatever the token', async () => {
    const { port, calls } = await setUp({ token: undefined });
    const refused = await request(port, '/api/reload', { method: 'POST', headers: bearer, body: '{}' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toMatch(/read-only; start it with --allow-control/);
    expect(JSON.parse((await request(port, '/api/snapshot')).body)).toMatchObject({ allowControl: false });
    expect(calls).toEqual([]);
  });

  it('[H622] serves at most kMaxStreams pages at once: one more takes the place of the page open longest, so streams that never read cannot lock the page out', async () => {
    const { port } = await setUp();
    const streams: Array<Awaited<ReturnType<typeof openStream>>> = [];
    cleanups.push(() => streams.forEach((stream) => stream.close()));
    // One at a time: their order is the order they opened in.
    for (let index = 0; index < kMaxStreams; index++) {
      streams.push(await openStream(port));
      await streams.at(-1)!.next('snapshot');
    }
    // Before: 503 "32 pages are open already", for as long as the 32 stayed (they may never read).
    const newest = await openStream(port);
    cleanups.push(() => newest.close());
    await newest.next('snapshot');
    await streams[0]!.closed;
    // The others stay, and get their updates.
    await expect(streams[1]!.next('tick')).resolves.toBeDefined();
    await expect(newest.next('tick')).resolves.toBeDefined();
  });

  it('[H622] refuses a snapshot (503, Retry-After) while earlier ones its clients have not taken hold 64 MiB, and serves the page and its stream all along', async () => {
    const { port, log } = await setUp();
    const reader = await openStream(port);
    cleanups.push(() => reader.close());
    await reader.next('snapshot');
    // A snapshot of about 5 MB (the 1 000 events kept, of about 5 KB each): more than the kernel's
    // buffers of a loopback connection take (about 4 MB), so one its client does not read waits in the dashboard.
    for (let frame = 0; frame < 7; frame++) {
      for (let event = 0; event < 150; event++) log.append({ type: 'workerExit', workerId: 1, pid: 1001, slot: 0, name: 'w'.repeat(5_000), code: 1, signal: null, expected: false });
      expect((await reader.next('events', 10_000)).events).toHaveLength(150);
    }
    const sockets: net.Socket[] = [];
    cleanups.push(() => sockets.forEach((socket) => socket.destroy()));
    /** One GET /api/snapshot whose answer is read up to its status line, then not at all. */
    const pausedSnapshot = () =>
      new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET /api/snapshot HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
        sockets.push(socket);
        let text = '';
        socket.on('error', () => {});
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
          // A 503 is read whole, up to its close; a 200 is paused at its first chunk.
          if (text.startsWith('HTTP/1.1 200 ')) {
            socket.pause();
            resolve(text);
          }
        });
        socket.once('close', () => resolve(text));
      });
    const answers = await Promise.all(Array.from({ length: 24 }, pausedSnapshot));
    const held = answers.filter((answer) => answer.startsWith('HTTP/1.1 200 ')).length;
    const refused = answers.filter((answer) => answer.startsWith('HTTP/1.1 503 '));
    // Before: all 200, each held for as long as its client stayed (340 MB for the tester's 128 connections).
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(Math.ceil((64 * 1024 * 1024) / (4 * 1024 * 1024)));
    expect(refused.length).toBe(answers.length - held);
    expect(refused[0]).toMatch(/\r\nRetry-After: 30\r\n/i);
    expect(refused[0]).toMatch(/\r\nConnection: close\r\n/i);
    expect(refused[0]).toMatch(/"error":"Snapshot refused: [\d.]+ MiB of earlier snapshots are still unsent to clients that have not taken them yet, and one more would pass the 64\.0 MiB the dashboard holds at most\. Retry in 30 s/);
    // The page, a new stream, and the reading stream are served all along.
    expect((await request(port, '/')).status).toBe(200);
    const stream = await openStream(port);
    cleanups.push(() => stream.close());
    await stream.next('snapshot', 10_000);
    await expect(reader.next('tick')).resolves.toBeDefined();
  });

  it('[H109] answers a request while kMaxConnections idle connections are open: the oldest idle one makes room', async () => {
    const { port } = await setUp();
    const stream = await openStream(port);
    cleanups.push(() => stream.close());
    await stream.next('snapshot');
    const sockets: net.Socket[] = [];
    cleanups.push(() => sockets.forEach((socket) => socket.destroy()));
    let closedByServer = 0;
    const extra = 8;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < kMaxConnections + extra; i++) {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => {});
        socket.on('close', () => {
          if (++closedByServer === extra) resolve();
        });
        sockets.push(socket);
      }
    });
    // The server holds kMaxConnections, all idle but the stream; a page's request takes the place
    // of the oldest idle one (before: closed at once, for as long as the idle ones were held).
    expect((await request(port, '/api/snapshot')).status).toBe(200);
    // The open event stream is a request in flight: never the one closed to make room.
    await expect(stream.next('tick')).resolves.toBeDefined();
  });

  it('[H100] drops a page that does not read once it is kMaxQueuedBytes behind, and keeps the pages that read', async () => {
    const { port, log } = await setUp();
    const reader = await openStream(port);
    cleanups.push(() => reader.close());
    await reader.next('snapshot');
    // Every other slot: connections that ask for the stream and never read a byte (the socket's
    // buffer fills, then the kernel's, then the server's).
    const silent: net.Socket[] = [];
    cleanups.push(() => silent.forEach((socket) => socket.destroy()));
    // Each read up to its first chunk (the stream's headers: it holds a slot), then not at all.
    await Promise.all(
      Array.from({ length: kMaxStreams - 1 }, () => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
        silent.push(socket);
        socket.on('error', () => {});
        return new Promise<void>((resolve) => socket.once('data', () => (socket.pause(), resolve())));
      }),
    );
    // About 9 MiB of events to each page, in frames of about 450 KB (under the control
    // socket's 1 MiB line): more than the bound and the kernel's buffers, less than the 16 MiB
    // of buffer each page was allowed before.
    const frames = Math.ceil((9 * 1024 * 1024) / (400 * 1_150));
    expect(9 * 1024 * 1024).toBeGreaterThan(4 * kMaxQueuedBytes);
    for (let frame = 0; frame < frames; frame++) {
      for (let event = 0; event < 400; event++) log.append({ type: 'workerExit', workerId: 1, pid: 1001, slot: 0, name: 'w'.repeat(1_000), code: 1, signal: null, expected: false });
      expect((await reader.next('events', 10_000)).events).toHaveLength(400);
    }
    // The silent pages are gone (closed by the server), the reading one still gets every update.
    await Promise.all(silent.map((socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : (socket.once('close', () => resolve()), socket.resume())))));
    log.append({ type: 'reload', workers: 2 });
    expect((await reader.next('events')).events).toEqual([expect.objectContaining({ type: 'reload' })]);
  });

  it('says when the cluster stops answering, and picks it up again when it is back', async () => {
    const { port, stopPrimary, restartPrimary } = await setUp();
    const stream = await openStream(port);
    cleanups.push(() => stream.close());
    await stream.next('tick');
    stopPrimary();
    // A status poll on its way as the socket closed says so instead (seen under load): both are true.
    expect(await stream.next('offline')).toEqual({ message: expect.stringMatching(/^cluster web is not running$|^The cluster "web" dropped the control connection before it answered "status"; its primary may be exiting\.$/) });
    await restartPrimary();
    await stream.next('tick');
  });
});
