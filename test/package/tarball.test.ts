/**
 * What `npm pack` ships, checked on the real tarball: the files a user needs and nothing of the
 * repository's own, source maps that point only at shipped files, README and docs links that
 * resolve inside the package, and a package that runs on its own from a fresh project's
 * node_modules (a tiny cluster, and `clusterkit run`, `status`, `stop` through its `bin`).
 */
import { readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { cleanUpCli, runtimeDir } from '../cli/cli-process.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { kRepoRoot, killSpawned, spawnNode } from '../helpers/spawn.js';
import { packIntoProject, type PackedPackage } from './packed.js';

let packed: PackedPackage;

beforeAll(async () => {
  packed = await packIntoProject();
}, 60_000);

afterAll(() => packed?.remove());

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

/** Every file under `directory` of the repository, relative to the repository, with / separators. */
function repoFiles(directory: string): string[] {
  return readdirSync(join(kRepoRoot, directory), { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(kRepoRoot, directory, path)).isFile())
    .map((path) => posix.join(directory, path.split(sep).join('/')));
}

describe('the packed tarball', () => {
  it('ships the license, the build, the docs and the examples, and none of the repository tooling', () => {
    const { files } = packed;
    for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/worker.js', 'dist/worker.d.ts', 'dist/cli/main.js', 'dist/cli/run-cli.js', 'dist/cli/worker-main.js', 'dist/cli/config-worker.js']) {
      expect(files).toContain(file);
    }
    for (const file of [...repoFiles('docs'), ...repoFiles('examples')]) expect(files).toContain(file);
    expect([...files].filter((file) => /^(test|bench|scripts|\.ci|node_modules)\/|tsbuildinfo$|\.tgz$/.test(file))).toEqual([]);
    expect(readFileSync(join(packed.root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    expect(JSON.parse(readFileSync(join(packed.root, 'package.json'), 'utf8'))).toMatchObject({ license: 'MIT' });
  });

  it('has source maps that point only at files in the tarball', () => {
    const maps = [...packed.files].filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(3);
    const missing: string[] = [];
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(packed.root, file), 'utf8')) as { sources: string[]; sourceRoot?: string; sourcesContent?: unknown };
      // The sources ship, so a map needs no copy of them.
      expect({ file, sourcesContent: map.sourcesContent }).toEqual({ file, sourcesContent: undefined });
      for (const source of map.sources) {
        const path = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source));
        if (!packed.files.has(path)) missing.push(`${file} -> ${source}`);
      }
    }
    expect(missing).toEqual([]);
    // And every map a built file names is there.
    for (const file of [...packed.files].filter((name) => /\.(js|d\.ts)$/.test(name))) {
      const named = readFileSync(join(packed.root, file), 'utf8').match(/\/\/# sourceMappingURL=(\S+)\s*$/);
      if (named) expect(packed.files).toContain(posix.join(posix.dirname(file), named[1]!));
    }
  });

  // Relative links, so they work wherever the package's files are read: node_modules, an editor,
  // a package CDN's file browser. npmjs.com's README page resolves them against package.json's
  // `repository` field, which this package does not have yet.
  it('has README and docs links that all resolve to files (and headings) inside the package', () => {
    const pages = [...packed.files].filter((file) => file === 'README.md' || /^docs\/[^/]+\.md$/.test(file));
    expect(pages.length).toBeGreaterThan(10);
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      for (const target of relativeLinks(readFileSync(join(packed.root, page), 'utf8'))) {
        checked++;
        const [path = '', anchor] = target.split('#');
        const resolved = path === '' ? page : posix.normalize(posix.join(posix.dirname(page), decodeURI(path))).replace(/\/$/, '');
        const exists = packed.files.has(resolved) || [...packed.files].some((file) => file.startsWith(`${resolved}/`));
        if (!exists) broken.push(`${page}: ${target} (no ${resolved} in the tarball)`);
        else if (anchor && resolved.endsWith('.md') && !headingSlugs(readFileSync(join(packed.root, resolved), 'utf8')).has(anchor)) {
          broken.push(`${page}: ${target} (no heading #${anchor} in ${resolved})`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('runs on its own from a fresh project: a tiny cluster, then clusterkit run, status and stop through its bin', async () => {
    const { project, root } = packed;
    writeFileSync(
      join(project, 'cluster.mjs'),
      [
        "import cluster from 'node:cluster';",
        "import { ClusterPrimary, ClusterWorker } from 'clusterkit';",
        'class Worker extends ClusterWorker { _onMessage_ping(n) { return n + 1; } }',
        'if (cluster.isPrimary) {',
        '  const primary = new ClusterPrimary({ workerCount: 2 });',
        '  await primary.start();',
        "  const replies = await primary.broadcast('ping', 1);",
        '  const report = await primary.shutdown();',
        '  console.log(JSON.stringify({ replies: replies.map((reply) => reply.value), graceful: report.graceful.length }));',
        '} else {',
        '  await new Worker().start();',
        '}',
      ].join('\n'),
    );
    const tiny = spawnNode(['cluster.mjs'], { cwd: project, detached: true, label: 'node cluster.mjs (packed)' });
    await expect(tiny.exited()).resolves.toBe(0);
    expect(JSON.parse(tiny.stdout().trim().split('\n').at(-1)!)).toEqual({ replies: [2, 2], graceful: 2 });

    writeFileSync(
      join(project, 'server.mjs'),
      "import http from 'node:http';\nhttp.createServer((request, response) => response.end(String(process.pid))).listen(Number(process.env.PORT), '127.0.0.1');\n",
    );
    const bin = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { clusterkit: string } }).bin.clusterkit;
    expect(readFileSync(join(root, bin), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    const env = { NODE_ENV: 'production', XDG_RUNTIME_DIR: runtimeDir(), PORT: String(await freePort()) };
    const clusterkit = (args: string[]) => spawnNode([join(root, bin), ...args], { cwd: project, env, detached: true, label: `clusterkit ${args.join(' ')} (packed)` });
    const service = clusterkit(['run', 'server.mjs', '-w', '2', '--name', 'packed']);
    const [, pids] = (await service.waitFor(/service packed started: 2 workers workerPids=([\d,]+)/)) as unknown as [string, string];
    const workerPids = pids.split(',').map(Number);
    expect(workerPids).toContain(Number((await get(`http://127.0.0.1:${env.PORT}/`)).body));
    const status = clusterkit(['status', 'packed', '--json']);
    await expect(status.exited()).resolves.toBe(0);
    expect(JSON.parse(status.stdout())).toMatchObject({ name: 'packed', state: 'running', script: join(project, 'server.mjs') });
    const stop = clusterkit(['stop', 'packed']);
    await expect(stop.exited()).resolves.toBe(0);
    await expect(service.exited()).resolves.toBe(0);
    await waitUntilGone(workerPids);
  });

  it('has clusterkit/worker: the worker side alone, half the code, the same classes, for import and require', async () => {
    const { project, root } = packed;
    // What a worker compiles before it can be ready: the files each entry loads, statically.
    const graph = (entry: string) => {
      const files = new Set<string>();
      const visit = (file: string) => {
        if (files.has(file)) return;
        files.add(file);
        const code = readFileSync(join(root, file), 'utf8');
        for (const [, target] of code.matchAll(/^(?:import|export)\b[^'"]*?from\s*["'](\.{1,2}\/[^"']+)["']/gm)) visit(posix.join(posix.dirname(file), target!));
      };
      visit(entry);
      const code = [...files].map((file) => readFileSync(join(root, file), 'utf8'));
      return { bytes: code.reduce((sum, text) => sum + text.length, 0), hasPrimary: code.some((text) => /\bClusterPrimary = class\b|\bclass ClusterPrimary\b/.test(text)) };
    };
    const main = graph('dist/index.js');
    const worker = graph('dist/worker.js');
    expect(main.hasPrimary).toBe(true);
    expect(worker.hasPrimary).toBe(false);
    expect(worker.bytes).toBeLessThan(main.bytes * 0.6);

    writeFileSync(
      join(project, 'worker.mjs'),
      [
        "import { ClusterWorker, RemoteError } from 'clusterkit/worker';",
        "const main = await import('clusterkit');",
        'class Worker extends ClusterWorker { _onMessage_same() { return main.ClusterWorker === ClusterWorker && main.RemoteError === RemoteError; } }',
        'await new Worker().start();',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'primary.mjs'),
      [
        "import { ClusterPrimary } from 'clusterkit';",
        "const primary = new ClusterPrimary({ workerScript: new URL('./worker.mjs', import.meta.url), workerCount: 2 });",
        'await primary.start();',
        "const replies = await primary.broadcast('same');",
        'const report = await primary.shutdown();',
        'console.log(JSON.stringify({ replies: replies.map((reply) => reply.value), graceful: report.graceful.length }));',
      ].join('\n'),
    );
    const cluster = spawnNode(['primary.mjs'], { cwd: project, detached: true, label: 'node primary.mjs (packed, clusterkit/worker)' });
    await expect(cluster.exited()).resolves.toBe(0);
    expect(JSON.parse(cluster.stdout().trim().split('\n').at(-1)!)).toEqual({ replies: [true, true], graceful: 2 });

    writeFileSync(
      join(project, 'require.cjs'),
      "const worker = require('clusterkit/worker');\nconst main = require('clusterkit');\nconsole.log(JSON.stringify({ same: worker.ClusterWorker === main.ClusterWorker && worker.StoreClient === main.StoreClient, primary: 'ClusterPrimary' in worker }));\n",
    );
    const required = spawnNode(['require.cjs'], { cwd: project, label: 'node require.cjs (packed)' });
    await expect(required.exited()).resolves.toBe(0);
    expect(JSON.parse(required.stdout().trim().split('\n').at(-1)!)).toEqual({ same: true, primary: false });
  });

  it('runs an example from node_modules/clusterkit/examples exactly as its header says', async () => {
    const { project, root } = packed;
    const header = readFileSync(join(root, 'examples/task-dispatch/main.ts'), 'utf8');
    expect(header).toMatch(/npm install clusterkit tsx\n/);
    const command = /^ \*   (node --import tsx node_modules\/clusterkit\/examples\/task-dispatch\/main\.ts)$/m.exec(header)?.[1];
    expect(command).toBeDefined();
    // What "npm install tsx" would add (tsx resolves its own dependencies from the repository).
    symlinkSync(join(kRepoRoot, 'node_modules', 'tsx'), join(project, 'node_modules', 'tsx'), 'dir');
    const example = spawnNode(command!.split(' ').slice(1), { cwd: project, detached: true, label: `${command} (packed)` });
    await expect(example.exited(30_000)).resolves.toBe(0);
    expect(example.stdout()).toMatch(/^12 tasks done: /m);
    expect(example.stdout()).toMatch(/a failing task rejects with RemoteError/);
  });
});

/** Relative link targets of a Markdown page (inline and reference links), outside code. */
function relativeLinks(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => match[1]!),
  ];
  // A scheme (https:, mailto:) or a protocol-relative URL is absolute.
  return targets.filter((target) => !/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(target));
}

/** The anchors GitHub (and npm) give a page's headings: lower case, punctuation dropped, spaces to hyphens. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const plain = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = plain.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    let slug = base;
    for (let n = 1; slugs.has(slug); n++) slug = `${base}-${n}`;
    slugs.add(slug);
  }
  return slugs;
}
