/**
 * The public types as a user's project compiles them: the packed package in a fresh project,
 * the tsconfig.json that docs/getting-started.md recommends (read from the page, so the page
 * and this test cannot drift apart), compiled with TypeScript 5.9 and with the newest
 * TypeScript (the `typescript-next` dev dependency, an alias of typescript@latest), against
 * @types/node 20 and the newest @types/node (`types-node-next`).
 *
 * The project's sources: the TypeScript examples of the getting-started page and the README,
 * a CommonJS `.cts` file, and the repository's compile-only type tests (test/types) with their
 * import pointed at 'clusterkit': each `@ts-expect-error` there must still fail to compile.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { kRepoRoot } from '../helpers/spawn.js';
import { installedVersion, packIntoProject, type PackedPackage } from './packed.js';

const run = promisify(execFile);
/** A compile of @types/node with skipLibCheck off takes seconds; leave room for a busy machine. */
const kCompileMs = 150_000;

let packed: PackedPackage;

beforeAll(async () => {
  packed = await packIntoProject();
  writeSources(packed.project);
}, 60_000);

afterAll(() => packed?.remove());

/** The first ```json block under "## TypeScript" in docs/getting-started.md. */
function recommendedTsconfig(): unknown {
  const page = readFileSync(join(kRepoRoot, 'docs/getting-started.md'), 'utf8');
  const section = page.slice(page.indexOf('\n## TypeScript\n'));
  const block = section.match(/```json\n([\s\S]*?)\n```/);
  if (!page.includes('\n## TypeScript\n') || !block) throw new Error('docs/getting-started.md has no ```json tsconfig under "## TypeScript".');
  return JSON.parse(block[1]!);
}

/** The ```json tsconfig and the ```ts example under "### CommonJS project" in docs/getting-started.md. */
function commonJsProject(): { tsconfig: unknown; example: string } {
  const page = readFileSync(join(kRepoRoot, 'docs/getting-started.md'), 'utf8');
  const start = page.indexOf('\n### CommonJS project\n');
  if (start === -1) throw new Error('docs/getting-started.md has no "### CommonJS project" section.');
  const section = page.slice(start, page.indexOf('\n## ', start + 1));
  const json = section.match(/```json\n([\s\S]*?)\n```/);
  const ts = section.match(/```ts\n([\s\S]*?)\n```/);
  if (!json || !ts) throw new Error('The "### CommonJS project" section needs a ```json tsconfig and a ```ts example.');
  return { tsconfig: JSON.parse(json[1]!), example: ts[1]! };
}

/** A "type": "commonjs" project inside the consumer one (its node_modules found up the tree): the docs' config and example, and a file to run. */
function writeCommonJsProject(project: string): string {
  const { tsconfig, example } = commonJsProject();
  const cjs = join(project, 'cjs');
  mkdirSync(join(cjs, 'src'), { recursive: true });
  writeFileSync(join(cjs, 'package.json'), `${JSON.stringify({ name: 'consumer-cjs', private: true, type: 'commonjs' }, null, 2)}\n`);
  writeFileSync(join(cjs, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  writeFileSync(join(cjs, 'src', 'primary.ts'), `${example}\n`);
  writeFileSync(join(cjs, 'src', 'check.ts'), "import { ClusterPrimary, WorkerExitedError } from 'clusterkit';\nconsole.log(typeof ClusterPrimary, typeof WorkerExitedError);\n");
  return cjs;
}

/**
 * ```ts blocks of a page that import clusterkit and no module of their own (those compile alone),
 * and its ```js ones too: a TypeScript user pastes them (newcomer t57: the README's `server.mjs`
 * failed `tsc --strict` on `new Promise((resolve) => server.listen(3000, resolve))`).
 */
function standaloneExamples(page: string): string[] {
  const markdown = readFileSync(join(kRepoRoot, page), 'utf8');
  return [...markdown.matchAll(/```(?:ts|js)\n([\s\S]*?)\n```/g)].map((match) => match[1]!).filter((code) => /from 'clusterkit(\/worker)?'/.test(code) && !/(from\s+|import\(\s*)['"]\.\.?\//.test(code));
}

function writeSources(project: string): void {
  const src = join(project, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(recommendedTsconfig(), null, 2)}\n`);
  // Stricter than recommended, and with declaration output: a public type a user's exported
  // code infers must be nameable from outside the package.
  const strict = { extends: './tsconfig.json', compilerOptions: { exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, declaration: true, emitDeclarationOnly: true, outDir: 'out' } };
  writeFileSync(join(project, 'tsconfig.strict.json'), `${JSON.stringify(strict, null, 2)}\n`);
  // The same, checking every declaration file too: clusterkit's against the compiler and @types/node.
  writeFileSync(join(project, 'tsconfig.strict-lib.json'), `${JSON.stringify({ extends: './tsconfig.strict.json', compilerOptions: { skipLibCheck: false } }, null, 2)}\n`);

  const pages = ['README.md', ...readdirSync(join(kRepoRoot, 'docs')).filter((file) => file.endsWith('.md')).map((file) => `docs/${file}`)];
  const examples = pages.flatMap(standaloneExamples);
  expect(examples.length).toBeGreaterThanOrEqual(4);
  examples.forEach((code, index) => writeFileSync(join(src, `example-${index + 1}.ts`), `${code}\n`));
  for (const file of readdirSync(join(kRepoRoot, 'test/types'))) {
    const code = readFileSync(join(kRepoRoot, 'test/types', file), 'utf8');
    const rewritten = code.replaceAll("from '../../src/index.js'", "from 'clusterkit'");
    expect(rewritten).not.toContain('../../src/');
    writeFileSync(join(src, `type-test-${file}`), rewritten);
  }
  writeFileSync(
    join(src, 'worker-entry.ts'),
    [
      '// The worker side alone: the same classes and types as the main entry.',
      "import * as main from 'clusterkit';",
      "import { ClusterWorker, RemoteError, StoreClient, type MessageContext, type WorkerOptions } from 'clusterkit/worker';",
      'type Messages = { add: { payload: number; reply: number } };',
      'export class Adder extends ClusterWorker<Messages, Messages> {',
      '  _onMessage_add(n: number, _context: MessageContext): number { return n + 1; }',
      '}',
      'export const options: WorkerOptions = { messageTimeoutMs: 1_000 };',
      'export const sameWorker: typeof main.ClusterWorker = ClusterWorker;',
      'export const sameError: typeof main.RemoteError = RemoteError;',
      'export const sameStore: typeof main.StoreClient = StoreClient;',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(src, 'worker-entry.cts'),
    "import { ClusterWorker } from 'clusterkit/worker';\nexport const worker = new ClusterWorker();\n",
  );
  writeFileSync(
    join(src, 'common.cts'),
    [
      '// A CommonJS file: require() of the ESM package, as Node 20.19+ allows.',
      "import { ClusterPrimary, WorkerExitedError, type WorkerHandle } from 'clusterkit';",
      'export const primary = new ClusterPrimary({ workerCount: 1 });',
      'export const isExit = (error: unknown): error is WorkerExitedError => error instanceof WorkerExitedError;',
      'export const ids = (workers: WorkerHandle[]): number[] => workers.map((worker) => worker.id);',
      '',
    ].join('\n'),
  );
}

/** Points the project's @types/node at one of the repository's installed versions. */
function useNodeTypes(project: string, installed: string): void {
  const link = join(project, 'node_modules', '@types', 'node');
  mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(join(kRepoRoot, 'node_modules', installed), link, 'dir');
}

async function compile(compiler: string, tsconfig: string): Promise<string> {
  const tsc = join(kRepoRoot, 'node_modules', compiler, 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', tsconfig], { cwd: packed.project, maxBuffer: 16 * 1024 * 1024 });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(error);
  }
}

const ts = installedVersion('typescript');
const tsNext = installedVersion('typescript-next');
const nodeTypes = installedVersion('@types/node');
const nodeTypesNext = installedVersion('types-node-next');

describe('the public types in a consumer project', () => {
  it('a CommonJS project with the tsconfig of the docs compiles under both TypeScript versions, and its output runs with require()', async () => {
    const cjs = writeCommonJsProject(packed.project);
    // Its own node_modules/@types: TypeScript looks for "types": ["node"] beside the tsconfig.
    useNodeTypes(cjs, '@types/node');
    for (const compiler of ['typescript', 'typescript-next']) {
      rmSync(join(cjs, 'dist'), { recursive: true, force: true });
      expect({ compiler, errors: await compile(compiler, 'cjs/tsconfig.json') }).toEqual({ compiler, errors: '' });
      expect(readFileSync(join(cjs, 'dist', 'primary.js'), 'utf8')).toContain('require("clusterkit")');
      const { stdout } = await run(process.execPath, [join(cjs, 'dist', 'check.js')], { cwd: cjs });
      expect(stdout.trim()).toBe('function function');
    }
  }, kCompileMs);

  it('the newest TypeScript is really newer than the 5.9 the project builds with', () => {
    expect(ts).toMatch(/^5\.9\./);
    expect(Number(tsNext.split('.')[0])).toBeGreaterThanOrEqual(7);
    expect(Number(nodeTypesNext.split('.')[0])).toBeGreaterThan(Number(nodeTypes.split('.')[0]));
  });

  // The strict config extends the recommended one and only adds errors, so TypeScript 5.9 (slow)
  // compiles it alone; the newest compiler (native, fast) also compiles the recommended config
  // as it is and checks every declaration file (skipLibCheck off).
  it.each([
    [`TypeScript ${ts}`, `@types/node ${nodeTypes}`, 'typescript', '@types/node', ['tsconfig.strict.json']],
    [`TypeScript ${tsNext}`, `@types/node ${nodeTypesNext}`, 'typescript-next', 'types-node-next', ['tsconfig.json', 'tsconfig.strict-lib.json']],
    [`TypeScript ${tsNext}`, `@types/node ${nodeTypes}`, 'typescript-next', '@types/node', ['tsconfig.strict-lib.json']],
  ])(
    'compile under %s with %s',
    async (_compilerLabel, _typesLabel, compiler, installedTypes, configs) => {
      useNodeTypes(packed.project, installedTypes);
      for (const config of configs) {
        expect({ config, errors: await compile(compiler, config) }).toEqual({ config, errors: '' });
      }
    },
    kCompileMs,
  );
});
