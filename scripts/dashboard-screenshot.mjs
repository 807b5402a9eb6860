// Takes docs/dashboard.png: the dashboard of a demo cluster under HTTP load, with a scale-up,
// a rolling reload and a worker killed with SIGKILL (then restarted) on its timeline. Needs the build (dist/)
// and a system Chromium (CHROMIUM_PATH, default /usr/bin/chromium); pngquant, if installed, shrinks
// the file. About 80 seconds.
//
//   npm run build && node scripts/dashboard-screenshot.mjs [output.png]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const output = process.argv[2] ?? join(root, 'docs/dashboard.png');
const runtime = mkdtempSync(join(tmpdir(), 'ck-shot-'));
const env = { ...process.env, XDG_RUNTIME_DIR: runtime, NODE_ENV: 'production' };
const children = [];
let browser;

try {
  const port = await freePort();
  const run = start(['dist/cli/main.js', 'run', 'examples/demo/server.js', '-w', '6', '--name', 'shop'], { PORT: String(port) });
  await waitFor(run, /service shop started/);
  const dashboard = start(['dist/cli/main.js', 'dashboard', 'shop', '--port', '0', '--allow-control']);
  const url = (await waitFor(dashboard, /dashboard for cluster shop: (http:\/\/\S+)/))[1];
  // Load that rises and falls, so the charts have something to show.
  const load = start(['--import', 'tsx', 'bench/load/autocannon-run.ts', `http://127.0.0.1:${port}/?delay=2`, '24', '75']);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await sleep(15_000);
  await page.fill('#scale-input', '8');
  await page.click('#scale-button');
  await page.locator('#control-result', { hasText: 'Scaled to 8' }).waitFor({ timeout: 60_000 });
  await sleep(12_000);
  await page.click('#reload-button');
  await page.locator('#timeline li[data-type="reloadComplete"]').waitFor({ timeout: 60_000 });
  await sleep(12_000);
  const pids = JSON.parse(await capture(['dist/cli/main.js', 'status', 'shop', '--json'])).workers.map((worker) => worker.pid);
  process.kill(pids[2], 'SIGKILL');
  await page.locator('#timeline li[data-type="workerRestart"]').waitFor({ timeout: 30_000 });
  await sleep(10_000);
  await page.screenshot({ path: output, fullPage: true });
  shrink(output);
  console.log(`wrote ${output}`);
  load.kill('SIGINT');
  void run;
} finally {
  await browser?.close();
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(runtime, { recursive: true, force: true });
}

/**
 * The page is flat colours and thin lines: 256 colours lose nothing visible and cut the file
 * (shipped in the package, docs/ is in `files`) from about 280 kB to about 100 kB. pngquant is
 * optional (apt-get install pngquant); without it the full-colour file is kept.
 */
function shrink(file) {
  const result = spawnSync('pngquant', ['--quality=70-95', '--speed', '1', '--force', '--output', file, file], { stdio: 'inherit' });
  if (result.error) console.log('pngquant is not installed: the screenshot keeps its full colours');
}

function start(args, extraEnv = {}) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.output = '';
  child.stdout.on('data', (chunk) => (child.output += chunk));
  child.stderr.on('data', (chunk) => (child.output += chunk));
  children.push(child);
  return child;
}

async function waitFor(child, pattern, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const match = child.output.match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`${pattern} did not appear:\n${child.output}`);
    await sleep(50);
  }
}

async function capture(args) {
  const child = start(args);
  await new Promise((resolve) => child.once('close', resolve));
  return child.output;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
