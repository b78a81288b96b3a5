// Runs berth's whole test suite: type-check and compile (tsc → build/), then node's test runner
// over the unit tests (beside the code), test/integration and test/e2e.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'build'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });

function walk(dir, out) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (n.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filter = process.argv.slice(2);
let files = [...walk(join(root, 'build/src'), []), ...walk(join(root, 'build/test'), [])].sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
console.log(`running ${files.length} test files: ${files.map((f) => relative(join(root, 'build'), f)).join(' ')}`);
// The spec reporter for people, TAP into a file for the closing tally line.
const tap = join(root, 'build', 'test-results.tap');
// The registry client's config for the tests (BERTH_CONFIG): docker.io only through mirrors, of
// which there are none, so that no test (an image not here is pulled) reaches a public registry.
const registryConfig = join(root, 'build', 'berth-config');
mkdirSync(registryConfig, { recursive: true });
writeFileSync(join(registryConfig, 'config.json'), JSON.stringify({ registries: { 'docker.io': { mirrorsOnly: true } } }));
const r = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
  { stdio: 'inherit', cwd: root, env: { BERTH_CONFIG: registryConfig, ...process.env, BERTH_TEST: '1' } },
);
const text = readFileSync(tap, 'utf8');
const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
const skips = [...text.matchAll(/^\s*ok \d+ - (.*) # SKIP (.*)$/gm)].map((m) => `  skipped: ${m[1]}: ${m[2]}`);
if (skips.length) console.log(`\nskipped tests and why:\n${skips.join('\n')}`);
console.log(`\n${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped`);
process.exit(r.status ?? 1);
