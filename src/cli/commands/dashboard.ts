/**
 * `clusterkit dashboard <name> [--port N] [--host 127.0.0.1] [--open] [--allow-control]`: a live
 * page of the cluster, served by this process until Ctrl-C. It reads the cluster over its
 * control socket, as `clusterkit status` does, so it reaches exactly the clusters `status`
 * reaches, with the same owner checks.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { clusterControl } from '../dashboard/cluster-control.js';
import { parseClusterName } from '../arg-values.js';
import { ClusterFeed } from '../dashboard/cluster-feed.js';
import { startDashboardServer, type DashboardServer } from '../dashboard/dashboard-server.js';
import { parseCommand } from '../parse-command.js';
import { missingNameError } from '../missing-name.js';
import { UsageError } from '../usage-error.js';
import { describeError } from '../../readable-error.js';

/** The port tried when `--port` is not given; a free one is taken when it is busy. */
export const kDefaultDashboardPort = 9716;
const kLoopbackNames = new Set(['127.0.0.1', '::1', 'localhost']);

export async function dashboardCommand(args: string[]): Promise<number | 'help'> {
  const { values, positionals } = parseCommand('dashboard', args, {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    open: { type: 'boolean' },
    'allow-control': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  if (positionals.length === 0) throw await missingNameError('dashboard');
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`, 'dashboard');
  const name = parseClusterName(positionals[0]!, 'dashboard');
  const port = values.port === undefined ? undefined : parsePort(values.port);
  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--host needs an address, such as 127.0.0.1 or 0.0.0.0.', 'dashboard');
  const token = values['allow-control'] ? randomBytes(24).toString('base64url') : undefined;

  const feed = new ClusterFeed({ name });
  await feed.start(); // ClusterNotRunningError, as for `clusterkit status`
  let server: DashboardServer;
  try {
    server = await listen({ feed, host, port, token, name });
  } catch (error) {
    feed.stop();
    throw error;
  }
  const url = `http://${urlHost(host)}:${server.port}/${token === undefined ? '' : `?token=${token}`}`;
  process.stdout.write(`dashboard for cluster ${name}: ${url}\n`);
  if (token !== undefined) process.stdout.write('control is on: anyone with this URL can reload and scale the cluster (Ctrl-C to quit)\n');
  else process.stdout.write('read-only (add --allow-control for reload and scale buttons); Ctrl-C to quit\n');
  if (!isLoopback(host)) {
    process.stderr.write(
      `clusterkit: warning: the dashboard listens on ${host}, not on loopback: whoever reaches this address sees the cluster's figures` +
        `${token === undefined ? '' : ', and the token travels unencrypted over HTTP'}.\n`,
    );
  }
  if (values.open) openBrowser(url);
  return waitForSignal(async () => {
    feed.stop();
    await server.close();
  });
}

async function listen(settings: { feed: ClusterFeed; host: string; port: number | undefined; token: string | undefined; name: string }): Promise<DashboardServer> {
  const { feed, host, token, name } = settings;
  const options = {
    feed,
    host,
    token,
    // The bound host and the machine's name; any address only when opened to the network.
    hostNames: [hostname(), host],
    acceptsAnyAddress: !isLoopback(host),
    control: clusterControl(name),
  };
  try {
    return await startDashboardServer({ ...options, port: settings.port ?? kDefaultDashboardPort });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // The usual port is taken (another dashboard): any free port will do, the URL says which.
    if (settings.port === undefined && code === 'EADDRINUSE') return startDashboardServer({ ...options, port: 0 });
    if (code === 'EADDRINUSE') throw new UsageError(`Port ${settings.port} is in use; pick another with --port, or --port 0 for any free one.`, 'dashboard');
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new UsageError(`--host ${host} is not an address of this machine.`, 'dashboard');
    throw error;
  }
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) throw new UsageError(`--port must be a port number from 0 to 65535 (0 for any free port). Received "${value}".`, 'dashboard');
  return port;
}

function isLoopback(host: string): boolean {
  return kLoopbackNames.has(host) || host.startsWith('127.');
}

/** The address to print: a wildcard address is reachable here as loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return isIP(host) === 6 ? `[${host}]` : host;
}

/**
 * The system's way of opening a URL. A failure prints the reason and the URL, and the dashboard
 * serves on: the opener missing (ENOENT), or exiting with a failure, as xdg-open does where it
 * finds no browser (a server, a container, an SSH session). Before, that exit went unsaid.
 */
function openBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  let isTold = false;
  const cannot = (why: string) => {
    if (isTold) return;
    isTold = true;
    process.stderr.write(`clusterkit: no browser could be started (${why}); open ${url} yourself.\n`);
  };
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.once('error', (error) => cannot(`${command}: ${describeError(error)}`));
    child.once('exit', (code, signal) => {
      if (signal !== null) cannot(`${command} was killed by ${signal}`);
      else if (code !== 0) cannot(`${command} exited with code ${code}`);
    });
    child.unref();
  } catch (error) {
    cannot(`${command}: ${describeError(error)}`);
  }
}

/** Serves until SIGINT or SIGTERM, then closes and resolves with exit code 0. */
function waitForSignal(close: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void close().then(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
