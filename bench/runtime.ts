/**
 * `npm run bench -- runtime`: create+start+wait+delete of /bin/true in a busybox bundle, median of
 * many runs, berth side by side with crun and runc in the same run, interleaved:
 *  (a) from a running Node process: berth's library call (Runtime.run) vs spawning `crun run` and
 *      `runc run` (what an engine that drives them does);
 *  (b) the CLIs: `berth-runtime run` vs `crun run` vs `runc run`, and `node -e 0` (Node's own
 *      start-up, measured here with the environment as it is, and without NODE_EXTRA_CA_CERTS).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, defaultSpec, makeBusyboxRootfs } from '../src/runtime/index.js';
import { berthPackageRoot } from '../src/sys/paths.js';
import { crunHybridWorkaround, median, ms, table, timeCommand, which, type Row } from './common.js';

const runs = Number(process.env.BENCH_RUNS ?? 40);
const notes: string[] = [];

const undoWorkaround = crunHybridWorkaround(which('crun'), notes);
const work = mkdtempSync(join(tmpdir(), 'berth-bench-'));
const bundleDir = join(work, 'bundle');
makeBusyboxRootfs(join(bundleDir, 'rootfs'));
const spec = defaultSpec({ args: ['/bin/true'] });
writeFileSync(join(bundleDir, 'config.json'), JSON.stringify(spec));
const state = (n: string) => join(work, `state-${n}`);
const rt = new Runtime({ root: state('berth-lib') });
const berthRuntime = join(berthPackageRoot(), 'bin', 'berth-runtime');
const crun = which('crun');
const runc = which('runc');
let seq = 0;

const lib: Row = { name: 'berth library Runtime.run (in-process)', times: [] };
const crunRow: Row = { name: 'crun run (spawned)', times: [] };
const runcRow: Row = { name: 'runc run (spawned)', times: [] };
const cli: Row = { name: 'berth-runtime run (CLI)', times: [] };
const node0: Row = { name: 'node -e 0', times: [] };
const node0clean: Row = { name: 'node -e 0 (NODE_EXTRA_CA_CERTS unset)', times: [] };
if (!crun) crunRow.error = 'crun not installed';
if (!runc) runcRow.error = 'runc not installed';

const cleanEnv = { ...process.env };
delete cleanEnv.NODE_EXTRA_CA_CERTS;

async function one(row: Row, f: () => Promise<number> | number) {
  if (row.error) return;
  try {
    row.times.push(await f());
  } catch (e) {
    row.error = (e as Error).message.slice(0, 160);
  }
}

for (let i = 0; i < runs + 3; i++) {
  const warm = i < 3; // the first rounds warm caches and are not counted
  const rows: [Row, () => Promise<number> | number][] = [
    [lib, async () => {
      const t0 = process.hrtime.bigint();
      const r = await rt.run(`b${seq++}`, { bundle: bundleDir, stdio: ['ignore', 'ignore', 'ignore'] });
      if (r.code !== 0) throw new Error(`exit ${r.code}`);
      return ms(process.hrtime.bigint() - t0);
    }],
    [crunRow, () => timeCommand(crun!, ['--root', state('crun'), 'run', '--bundle', bundleDir, `c${seq++}`])],
    [runcRow, () => timeCommand(runc!, ['--root', state('runc'), 'run', '--bundle', bundleDir, `r${seq++}`])],
    [cli, () => timeCommand(berthRuntime, ['--root', state('berth-cli'), 'run', '--bundle', bundleDir, `b${seq++}`])],
    [node0, () => timeCommand(process.execPath, ['-e', '0'])],
    [node0clean, () => timeCommand(process.execPath, ['-e', '0'], { env: cleanEnv })],
  ];
  // A different order each round: a process that just exited (node's ~40 MB) is still being torn
  // down by the kernel and slows whatever runs next, so no tool may always follow another.
  rows.sort(() => Math.random() - 0.5);
  for (const [row, f] of rows) {
    const before = row.times.length;
    await one(row, f);
    if (warm && row.times.length > before) row.times.pop();
  }
}

console.log(`runtime benchmark: create+start+wait+delete of /bin/true, ${runs} runs each, interleaved`);
console.log('\n(a) from a running Node process (the engine\'s call)');
console.log(table([lib, crunRow, runcRow], 'crun run (spawned)'));
console.log('\n(b) command lines');
console.log(table([cli, crunRow, runcRow, node0, node0clean], 'node -e 0'));
if (cli.times.length && node0.times.length) {
  const over = median(cli.times) - median(node0.times);
  const overClean = median(cli.times) - median(node0clean.times);
  console.log(`\nberth-runtime run minus node -e 0: ${over.toFixed(1)} ms (target ≤ 25 ms); minus node -e 0 without the CA variable: ${overClean.toFixed(1)} ms`);
}
if (lib.times.length && crunRow.times.length) console.log(`berth library / crun: ${(median(lib.times) / median(crunRow.times)).toFixed(2)} (target ≤ 1.00)`);
rmSync(work, { recursive: true, force: true });
undoWorkaround();
for (const n of notes) console.log(`note: ${n}`);
