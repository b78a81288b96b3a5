/**
 * The layering rules of DESIGN.md, checked over src/ (every *.ts but tests):
 * - which top folder may import which;
 * - nothing imports deep into another folder, only its index.ts (oci/, lib/ and sys/ have no
 *   index yet: their files may be imported directly);
 * - nothing outside cli/ writes to process.stdout/stderr or calls process.exit.
 * Each test lists every violation it finds. Comments and the contents of strings are ignored.
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

test('nothing outside cli/ prints or exits', () => {
  const bad: string[] = [];
  for (const file of sourceFiles()) {
    if (layerOf(file) === 'cli') continue;
    const lines = scan(readFileSync(join(srcDir, file), 'utf8')).code.split('\n');
    lines.forEach((line, i) => {
      const m = /\bprocess\s*\.\s*(stdout|stderr|exit)\b|\bconsole\s*\.\s*(log|error|warn|info|debug)\b/.exec(line);
      if (m) bad.push(`src/${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(bad, [], `printing or exiting below the CLI:\n  ${bad.join('\n  ')}`);
});
