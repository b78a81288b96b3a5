/**
 * The layering rules of DESIGN.md, checked over src/ (every *.ts but tests):
 * - which top folder may import which;
 * - nothing imports deep into another folder, only its index.ts (oci/, lib/ and sys/ have no
 *   index yet: their files may be imported directly);
 * - nothing outside cli/ prints, uses the process's own stdio (process.stdout/stderr/stdin, fds 1
 *   and 2), exits or sets process.exitCode, signals its own process, handles the process's signals
 *   or reads its arguments; only the entry points of detached programs listed in ENTRY_POINTS
 *   (thin files bundled by scripts/build.mjs) may;
 * - no file re-exports another layer's names to layers that the table keeps from that layer.
 * Each test lists every violation it finds. Comments and the contents of strings are ignored, and
 * each check has a self-test on sample text that it must flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const LAYERS = ['cli', 'api', 'compose', 'engine', 'builder', 'registry', 'image', 'content', 'snapshot', 'runtime', 'network', 'volume', 'oci', 'sys', 'lib'] as const;
type Layer = (typeof LAYERS)[number];

/**
 * Which folder may import which, as drawn in DESIGN.md. Nothing is inherited transitively: a
 * folder may import exactly the folders listed (and itself). Everyone may use oci and lib, except
 * that oci uses only lib and lib nothing (it is domain-free; oci → lib would otherwise be a cycle).
 * sys is allowed for the engine, for runtime/network/volume/snapshot, and for content and image:
 * those two store their blobs, tag store and archives as files on disk, and the atomic writes
 * and locks for that live in sys.
 */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  cli: ['engine'],
  api: ['engine'],
  compose: ['engine'],
  engine: ['builder', 'registry', 'image', 'snapshot', 'content', 'runtime', 'network', 'volume', 'sys'],
  builder: ['image', 'snapshot', 'content', 'registry'],
  registry: ['image', 'content'],
  image: ['content', 'snapshot', 'sys'],
  content: ['sys'],
  snapshot: ['sys'],
  runtime: ['sys'],
  network: ['sys'],
  volume: ['sys'],
  sys: [],
  oci: [],
  lib: [],
};
const EVERYONE: readonly Layer[] = ['oci', 'lib'];

/** Folders whose files may be imported directly from other folders (they have no index.ts yet). */
const NO_INDEX: readonly Layer[] = ['oci', 'lib', 'sys'];

function mayImport(from: Layer, to: Layer): boolean {
  if (from === to) return true;
  if (from === 'lib') return false;
  if (from === 'oci') return to === 'lib';
  return ALLOWED[from].includes(to) || EVERYONE.includes(to);
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

const root = packageRoot();
const srcDir = join(root, 'src');

/** src/**\/*.ts but *.test.ts and *.d.ts, as paths relative to src/ with '/' separators. */
function sourceFiles(dir = srcDir, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(relative(srcDir, p).split(sep).join('/'));
  }
  return out;
}

/**
 * The text with comments removed and every string or template literal replaced by a numbered
 * placeholder ('#0#', "#1#", `#2#`), with the literals' contents: imports written in comments or
 * inside strings then do not count, and a specifier is one placeholder.
 */
function scan(text: string): { code: string; strings: string[] } {
  let code = '';
  const strings: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const n = text[i + 1];
    if (c === '/' && n === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      code += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') j++;
        else if (c !== '`' && text[j] === '\n') break;
        j++;
      }
      const body = text.slice(i + 1, j);
      code += `${c}#${strings.length}#${c}` + body.replace(/[^\n]/g, ''); // keep line numbers
      strings.push(body);
      i = j + 1;
    } else {
      code += c;
      i++;
    }
  }
  return { code, strings };
}

/** Every module specifier of import/export-from statements, side-effect imports and import(). */
function importSpecifiers(text: string): string[] {
  const { code, strings } = scan(text);
  const specs: string[] = [];
  const lit = String.raw`(['"])#(\d+)#\1`;
  const patterns = [
    // import x from '...', import { a, b } from '...', import type {...} from '...', export * from '...', export { a } from '...'
    new RegExp(String.raw`\b(?:import|export)\s+(?:type\s+)?[\w$*\s{},]*?\bfrom\s*` + lit, 'g'),
    // import '...'
    new RegExp(String.raw`\bimport\s*` + lit, 'g'),
    // import('...')
    new RegExp(String.raw`\bimport\s*\(\s*` + lit + String.raw`\s*\)`, 'g'),
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(strings[Number(m[2])]!);
  return specs;
}

function layerOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : '(src root)';
}

interface Edge {
  file: string;
  spec: string;
  target: string; // relative to src/
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles()) {
    const text = readFileSync(join(srcDir, file), 'utf8');
    for (const spec of importSpecifiers(text)) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) continue; // node: builtins and packages
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      out.push({ file, spec, target });
    }
  }
  return out;
}

test('the import scanner finds every form of import', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b/index.js';",
    'import * as c from "../c/c.js";',
    "import {\n  d,\n  type E,\n} from './d.js';",
    "export { f } from './f.js';",
    "export * from './g.js';",
    "export type { H } from './h.js';",
    "import './side.js';",
    "const m = await import('./lazy.js');",
    "// import { no } from './comment.js';",
    "/* import { no } from './block.js'; */",
    "const s = 'import x from \"./string.js\"';",
    "import def, { named } from './i.js';",
  ].join('\n');
  const found = importSpecifiers(text).sort();
  assert.deepEqual(found, ['../b/index.js', '../c/c.js', './a.js', './d.js', './f.js', './g.js', './h.js', './i.js', './lazy.js', './side.js'].sort());
});

test('the layer map says what DESIGN.md draws', () => {
  const yes: [Layer, Layer][] = [
    ['cli', 'engine'], ['api', 'engine'], ['compose', 'oci'], ['engine', 'runtime'], ['engine', 'sys'], ['builder', 'registry'],
    ['registry', 'content'], ['image', 'snapshot'], ['image', 'sys'], ['content', 'sys'], ['runtime', 'sys'], ['network', 'lib'],
    ['sys', 'lib'], ['sys', 'oci'], ['oci', 'lib'], ['runtime', 'runtime'], ['lib', 'lib'],
  ];
  const no: [Layer, Layer][] = [
    ['cli', 'runtime'], ['cli', 'sys'], ['api', 'image'], ['engine', 'cli'], ['builder', 'runtime'], ['builder', 'sys'], ['registry', 'snapshot'],
    ['runtime', 'network'], ['network', 'runtime'], ['snapshot', 'runtime'], ['volume', 'snapshot'], ['runtime', 'engine'],
    ['oci', 'sys'], ['lib', 'oci'], ['sys', 'runtime'], ['content', 'image'],
  ];
  for (const [a, b] of yes) assert.ok(mayImport(a, b), `${a} → ${b} should be allowed`);
  for (const [a, b] of no) assert.ok(!mayImport(a, b), `${a} → ${b} should be forbidden`);
});

test('src has source files in known layers only', () => {
  const files = sourceFiles();
  assert.ok(files.length > 10, `few source files found under ${srcDir}`);
  const unknown = files.filter((f) => !(LAYERS as readonly string[]).includes(layerOf(f)));
  assert.deepEqual(unknown, [], `files outside the layers of DESIGN.md (${LAYERS.join(', ')}); add the folder to this test's map`);
});

test('layers import only the layers DESIGN.md allows', () => {
  const bad: string[] = [];
  for (const e of edges()) {
    const from = layerOf(e.file);
    const to = layerOf(e.target);
    if (!(LAYERS as readonly string[]).includes(from)) continue; // reported by the test above
    if (!(LAYERS as readonly string[]).includes(to)) {
      bad.push(`src/${e.file} imports ${JSON.stringify(e.spec)}: ${to} is not a layer`);
      continue;
    }
    if (!mayImport(from as Layer, to as Layer)) bad.push(`src/${e.file} imports ${JSON.stringify(e.spec)}: ${from} → ${to} is not allowed`);
  }
  assert.deepEqual(bad, [], `forbidden imports:\n  ${bad.join('\n  ')}`);
});

test("imports into another layer go through its index.ts (except oci, lib and sys)", () => {
  const bad: string[] = [];
  for (const e of edges()) {
    const from = layerOf(e.file);
    const to = layerOf(e.target);
    if (from === to || (NO_INDEX as readonly string[]).includes(to)) continue;
    if (e.target !== `${to}/index.ts`) bad.push(`src/${e.file} imports ${JSON.stringify(e.spec)}: use src/${to}/index.ts`);
  }
  assert.deepEqual(bad, [], `deep imports:\n  ${bad.join('\n  ')}`);
});

test('relative imports point at files that exist', () => {
  const bad = edges()
    .filter((e) => !existsSync(join(srcDir, e.target)))
    .map((e) => `src/${e.file} imports ${JSON.stringify(e.spec)}: src/${e.target} does not exist`);
  assert.deepEqual(bad, []);
});

/** 1-based line of an offset in a text. */
function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * What only a program's entry point may do to its own process: print, use its stdio (streams or
 * fds 1 and 2), exit or set its exit code, signal itself, handle its signals and events, read its
 * arguments. Below the fronts, code takes streams and callbacks from its caller and throws.
 */
const PROCESS_LEVEL: readonly { what: string; re: RegExp }[] = [
  { what: 'prints to the console', re: /\bconsole\s*\.\s*(?:log|error|warn|info|debug|trace|dir|table)\b/g },
  { what: "uses the process's own stdio", re: /\bprocess\s*\.\s*(?:stdout|stderr|stdin)\b/g },
  { what: 'writes to fd 1 or 2', re: /\bwrite(?:Sync)?\s*\(\s*[12]\s*,/g },
  { what: 'exits or sets the exit code', re: /\bprocess\s*\.\s*(?:exit|exitCode|abort|reallyExit)\b/g },
  { what: 'signals its own process', re: /\bprocess\s*\.\s*kill\s*\(\s*(?:-\s*)?(?:process\s*\.\s*pid\b|0\s*[,)])/g },
  { what: "handles the process's signals or events", re: /\bprocess\s*\.\s*(?:on|once|off|addListener|prependListener|prependOnceListener|removeListener|removeAllListeners|emit)\s*\(/g },
  { what: "reads the process's arguments", re: /\bprocess\s*\.\s*(?:argv|execArgv)\b/g },
  { what: 'takes stdio, exit, kill, events or arguments out of process', re: /\{[^{}]*\b(?:stdout|stderr|stdin|exit|exitCode|abort|kill|on|once|argv)\b[^{}]*\}\s*=\s*process\b/g },
];

/** Every process-level use in a file's text, as "LINE: what: the code" (comments and strings ignored). */
function processLevelUses(text: string): string[] {
  const { code } = scan(text);
  const found: { line: number; s: string }[] = [];
  for (const { what, re } of PROCESS_LEVEL) {
    for (const m of code.matchAll(re)) {
      const line = lineAt(code, m.index);
      const s = `${line}: ${what}: ${code.split('\n')[line - 1]!.trim()}`;
      if (!found.some((f) => f.s === s)) found.push({ line, s });
    }
  }
  return found.sort((a, b) => a.line - b.line).map((f) => f.s);
}

/**
 * The entry points of the detached programs that live below cli/ (bundled by scripts/build.mjs):
 * the only files there that may do what PROCESS_LEVEL lists. Each stays thin: it exports nothing
 * and nothing imports it; the program's logic is in functions of its layer that throw.
 */
const ENTRY_POINTS: Readonly<Record<string, string>> = {
  'network/dns-main.ts': 'berth-dns',
  'network/proxy-main.ts': 'berth-proxy',
};

/** scripts/build.mjs's bundles: name → source file relative to src/. */
function bundleEntries(): Record<string, string> {
  const text = readFileSync(join(root, 'scripts', 'build.mjs'), 'utf8');
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(?:'([\w-]+)'|([\w$]+))\s*:\s*join\(\s*root\s*,\s*'src\/([^']+)'\s*\)/g)) out[m[1] ?? m[2]!] = m[3]!;
  return out;
}

test('the process-level check finds every form', () => {
  const text = [
    'console.log(x);', // 1
    "process.stdout.write('a');", // 2
    'process\n  .stderr.write(b);', // 3 (and 4)
    'for await (const c of process.stdin) {}', // 5
    "writeSync(1, 'x');", // 6
    'fs.writeSync( 2 , buf);', // 7
    'process.exitCode = 1;', // 8
    'process.exit(2);', // 9
    "process.kill(process.pid, 'SIGTERM');", // 10
    'process.kill(0);', // 11
    "process.on('SIGTERM', stop);", // 12
    "process.once('exit', done);", // 13
    'const [a] = process.argv.slice(2);', // 14
    'const { stdout, env } = process;', // 15
    "// process.exitCode = 1; console.log('x')", // 16: a comment
    "const s = 'process.stdout.write(1)';", // 17: a string
    "process.kill(pid, 'SIGKILL'); writeSync(fd, b); writeSync(10, b);", // 18: another process, another fd
    'const { env } = process; process.pid; process.env.HOME;', // 19: harmless
    '/* process.exit(1) */ stream.write(data);', // 20
  ].join('\n');
  const lines = processLevelUses(text).map((s) => Number(s.slice(0, s.indexOf(':'))));
  assert.deepEqual([...new Set(lines)], [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  for (const { what } of PROCESS_LEVEL) assert.ok(processLevelUses(text).some((s) => s.includes(`: ${what}: `)), `no sample line for "${what}"`);
});

test('nothing outside cli/ prints, exits or uses its own process (but the entry points of detached programs)', () => {
  const bad: string[] = [];
  for (const file of sourceFiles()) {
    if (layerOf(file) === 'cli' || file in ENTRY_POINTS) continue;
    for (const use of processLevelUses(readFileSync(join(srcDir, file), 'utf8'))) bad.push(`src/${file}:${use}`);
  }
  assert.deepEqual(bad, [], `process-level code below the CLI (move it into an entry point, or take streams and callbacks from the caller):\n  ${bad.join('\n  ')}`);
});

test('the entry points below cli/ are bundled by scripts/build.mjs, export nothing and are imported by no one', () => {
  const bundles = bundleEntries();
  assert.ok(Object.keys(bundles).length >= 2, 'no entry points found in scripts/build.mjs');
  const below = Object.fromEntries(Object.entries(bundles).filter(([, f]) => layerOf(f) !== 'cli'));
  assert.deepEqual(
    Object.fromEntries(Object.entries(below).map(([name, f]) => [f, name])),
    ENTRY_POINTS,
    "scripts/build.mjs's bundles outside src/cli/ and this test's ENTRY_POINTS differ",
  );
  const bad: string[] = [];
  for (const file of Object.keys(ENTRY_POINTS)) {
    if (!existsSync(join(srcDir, file))) {
      bad.push(`src/${file} does not exist`);
      continue;
    }
    const { code } = scan(readFileSync(join(srcDir, file), 'utf8'));
    for (const m of code.matchAll(/\bexport\b/g)) bad.push(`src/${file}:${lineAt(code, m.index)}: an entry point exports`);
  }
  for (const e of edges()) if (e.target in ENTRY_POINTS) bad.push(`src/${e.file} imports the entry point ${JSON.stringify(e.spec)}`);
  assert.deepEqual(bad, [], bad.join('\n'));
});

/** Local names an import clause binds: `d, { a, type B, c as e }` → d, a, B, e; `* as ns` → ns. */
function importedNames(clause: string): string[] {
  return clause
    .replace(/[{}]/g, ',')
    .split(',')
    .map((s) => s.trim().replace(/^type\s+/, ''))
    .filter(Boolean)
    .map((s) => /(?:^|\s)as\s+([\w$]+)$/.exec(s)?.[1] ?? s);
}

/**
 * What a file re-exports from other modules, as { spec, what, line }: `export * from`, `export
 * {...} from` (types too), and names it imported and exports again (`export { x }`, `export
 * default x`, `export const y = x` or `= x.z`). A type or function it declares itself is its own.
 */
function reExports(text: string): { spec: string; what: string; line: number }[] {
  const { code, strings } = scan(text);
  const lit = String.raw`(['"])#(\d+)#\2`; // after the pattern's one group of its own
  const out: { spec: string; what: string; line: number }[] = [];
  for (const m of code.matchAll(new RegExp(String.raw`\bexport\s+(?:type\s+)?(\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*` + lit, 'g'))) {
    out.push({ spec: strings[Number(m[3])]!, what: m[1]!.replace(/\s+/g, ' '), line: lineAt(code, m.index) });
  }
  const from = new Map<string, string>();
  for (const m of code.matchAll(new RegExp(String.raw`\bimport\s+(?:type\s+)?([\w$*\s{},]*?)\s*\bfrom\s*` + lit, 'g'))) {
    for (const name of importedNames(m[1]!)) from.set(name, strings[Number(m[3])]!);
  }
  const again = (name: string, index: number) => {
    const spec = from.get(name);
    if (spec !== undefined) out.push({ spec, what: name, line: lineAt(code, index) });
  };
  for (const m of code.matchAll(/\bexport\s+(?:type\s+)?\{([^}]*)\}(?!\s*from\b)/g)) {
    for (const item of m[1]!.split(',')) {
      const local = item.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!.trim();
      if (local) again(local, m.index);
    }
  }
  for (const m of code.matchAll(/\bexport\s+default\s+([\w$]+)\s*(?:;|$)/gm)) again(m[1]!, m.index);
  for (const m of code.matchAll(/\bexport\s+(?:const|let|var)\s+[\w$]+\s*(?::[^=;]+)?=\s*([\w$]+)(?:\s*\.\s*[\w$]+)*\s*(?:;|$)/gm)) again(m[1]!, m.index);
  return out.sort((a, b) => a.line - b.line);
}

/** The layers that may import `from` but not `to`: whom a re-export from `to` in `from` would smuggle it to. */
function smuggledTo(from: Layer, to: Layer): Layer[] {
  return LAYERS.filter((y) => y !== from && y !== to && mayImport(y, from) && !mayImport(y, to));
}

/** Re-exports in `file` (relative to src/) of another layer's names that an importer of the file's layer may not import. */
function smuggling(file: string, text: string): string[] {
  const from = layerOf(file);
  if (!(LAYERS as readonly string[]).includes(from)) return [];
  const bad: string[] = [];
  for (const r of reExports(text)) {
    if (!r.spec.startsWith('./') && !r.spec.startsWith('../')) continue;
    const to = layerOf(posix.normalize(posix.join(posix.dirname(file), r.spec)));
    if (to === from || !(LAYERS as readonly string[]).includes(to)) continue;
    const to_ = smuggledTo(from as Layer, to as Layer);
    if (to_.length) bad.push(`src/${file}:${r.line}: re-exports ${r.what} from ${JSON.stringify(r.spec)}: ${to_.join(', ')} may import ${from} but not ${to}`);
  }
  return bad;
}

test('the re-export check finds every form', () => {
  const text = [
    "export { Runtime, defaultSpec } from '../runtime/index.js';", // 1
    "export type { ExitStatus } from '../runtime/index.js';", // 2
    "export * from '../sys/attach.js';", // 3
    "import { FrameReader, type Frame, inputFrames as frames } from '../sys/attach.js';", // 4
    'export { FrameReader, frames as inputFrames };', // 5
    'export type { Frame };', // 6
    "import * as net from '../network/index.js';", // 7
    'export const startProxy = net.startProxy;', // 8
    "import Builder from '../builder/index.js';", // 9
    'export default Builder;', // 10
    "export { ImageService } from './images.js';", // 11: its own layer
    "export { BerthError } from '../lib/errors.js';", // 12: everyone may import lib
    "// export { Runtime } from '../runtime/index.js';", // 13: a comment
    "const s = \"export * from '../sys/attach.js'\";", // 14: a string
    'export function attach(s: Socket): void { new FrameReader(() => {}); }', // 15: its own function
    "import { ImageService } from './images.js';", // 16
    'export { ImageService as Images };', // 17: its own layer again
  ].join('\n');
  const lines = smuggling('engine/index.ts', text).map((s) => Number(/:(\d+):/.exec(s)![1]));
  assert.deepEqual(lines, [1, 2, 3, 5, 5, 6, 8, 10]);
  // The same re-export from a layer whose importers may all import the source is no smuggling:
  // builder → registry is allowed, and only the engine (which may import registry) imports builder.
  assert.deepEqual(smuggling('builder/index.ts', "export { pull } from '../registry/index.js';"), []);
  assert.deepEqual(smuggling('snapshot/fsutil.ts', "export { FsOpError } from '../sys/fsops.js';").length, 1, 'builder imports snapshot, not sys');
});

test('no file re-exports a lower layer to those the table keeps from it', () => {
  const bad: string[] = [];
  for (const file of sourceFiles()) bad.push(...smuggling(file, readFileSync(join(srcDir, file), 'utf8')));
  assert.deepEqual(bad, [], `re-exports that get around the layer table (offer the engine's own functions and types instead):\n  ${bad.join('\n  ')}`);
});
