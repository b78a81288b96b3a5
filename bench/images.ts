/**
 * `npm run bench -- images`: import, save and load (with the unpack into layers) of a 200 MB image
 * made of one incompressible and one compressible 100 MB layer, berth side by side with podman
 * (and skopeo, which copies without unpacking), in the same run. Prints MB/s and ratios.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { berthPackageRoot } from '../src/sys/paths.js';
import { median, ms, which } from './common.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const MB = 1_000_000;
const layerBytes = Number(process.env.BENCH_LAYER_MB ?? 100) * MB;
const work = mkdtempSync(join(tmpdir(), 'berth-bench-img-'));
const berth = join(berthPackageRoot(), 'bin', 'berth');
const podman = which('podman');
const skopeo = which('skopeo');

function writeFile(path: string, size: number, compressible: boolean): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1 << 20);
  const line = Buffer.from('berth benchmark line of compressible text 0123456789 abcdefghijklmnopqrstuvwxyz\n');
  for (let off = 0; off < size; off += chunk.length) {
    if (compressible) for (let i = 0; i < chunk.length; i += line.length) line.copy(chunk, i);
    else randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, size - off));
  }
  closeSync(fd);
}

function run(cmd: string, args: string[], opts: { input?: string } = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const t = ms(process.hrtime.bigint() - t0);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${String(r.stderr).trim().split('\n').pop()}`);
  void opts;
  return t;
}

// Two root filesystem tars (one layer each) and an image made of both.
const src = join(work, 'src');
mkdirSync(join(src, 'a'), { recursive: true });
mkdirSync(join(src, 'b'), { recursive: true });
writeFile(join(src, 'a', 'random.bin'), layerBytes, false);
writeFile(join(src, 'b', 'text.txt'), layerBytes, true);
const tarA = join(work, 'a.tar');
const tarB = join(work, 'b.tar');
const tarAll = join(work, 'all.tar');
run('tar', ['-C', join(src, 'a'), '-cf', tarA, '.']);
run('tar', ['-C', join(src, 'b'), '-cf', tarB, '.']);
run('tar', ['-C', src, '-cf', tarAll, 'a', 'b']);
const totalMB = (2 * layerBytes) / MB;

interface Row { name: string; times: number[]; error?: string }
const rows: Row[] = [];
const steps: { row: Row; prepare: (i: number) => void; f: (i: number) => number }[] = [];
function step(name: string, prepare: (i: number) => void, f: (i: number) => number): void {
  const row: Row = { name, times: [] };
  rows.push(row);
  steps.push({ row, prepare, f });
}

// berth: import of the rootfs tar, save of that image, load of the archive into a fresh root.
const bRoot = (n: string) => join(work, `berth-${n}`);
const archive = join(work, 'berth-save.tar');
step('berth import (200 MB rootfs tar)', (i) => rmSync(bRoot(`imp${i}`), { recursive: true, force: true }), (i) => run(berth, ['--root', bRoot(`imp${i}`), 'import', tarAll, 'bench:import']));
step('berth save (docker-archive)', () => rmSync(archive, { force: true }), () => run(berth, ['--root', bRoot('imp0'), 'save', '-o', archive, 'bench:import']));
step('berth load (with unpack)', (i) => rmSync(bRoot(`load${i}`), { recursive: true, force: true }), (i) => run(berth, ['--root', bRoot(`load${i}`), 'load', '-i', archive]));

// podman, in its own temporary storage; it loads berth's archive.
const pRoot = (n: string) => ['--root', join(work, `podman-${n}`, 'storage'), '--runroot', join(work, `podman-${n}`, 'run'), '--storage-driver', 'overlay'];
const pArchive = join(work, 'podman-save.tar');
if (podman) {
  step('podman import', () => {}, (i) => run(podman, [...pRoot(`imp${i}`), 'import', tarAll, 'bench:import']));
  step('podman save (docker-archive)', () => rmSync(pArchive, { force: true }), () => run(podman, [...pRoot('imp0'), 'save', '-o', pArchive, 'bench:import']));
  step('podman load (with unpack)', () => {}, (i) => run(podman, [...pRoot(`load${i}`), 'load', '-i', archive]));
} else rows.push({ name: 'podman', times: [], error: 'not installed' });
if (skopeo) {
  step('skopeo copy docker-archive → oci dir (no unpack)', (i) => rmSync(join(work, `skopeo-${i}`), { recursive: true, force: true }), (i) => run(skopeo, ['copy', '-q', '--preserve-digests', `docker-archive:${archive}`, `oci:${join(work, `skopeo-${i}`)}:bench`]));
} else rows.push({ name: 'skopeo', times: [], error: 'not installed' });

// Rounds: each tool once per round, in the same order (save and load need the import before).
for (let i = 0; i < runs; i++) {
  for (const st of steps) {
    if (st.row.error) continue;
    try {
      st.prepare(i);
      st.row.times.push(st.f(i));
    } catch (e) {
      st.row.error = (e as Error).message.slice(0, 200);
    }
  }
}

console.log(`images benchmark: ${totalMB} MB image (one incompressible, one compressible layer), ${runs} runs each, median`);
const rate = (r: Row) => (r.times.length ? totalMB / (median(r.times) / 1000) : NaN);
const skopeoRow = rows.find((r) => r.name.startsWith('skopeo'));
for (const r of rows) {
  if (r.error || !r.times.length) {
    console.log(`${r.name.padEnd(52)} ${r.error ?? 'no runs'}`);
    continue;
  }
  const vsSkopeo = skopeoRow && skopeoRow.times.length ? `  ${(rate(r) / rate(skopeoRow)).toFixed(2)}x skopeo` : '';
  console.log(`${r.name.padEnd(52)} ${(median(r.times) / 1000).toFixed(2).padStart(7)} s ${rate(r).toFixed(0).padStart(6)} MB/s${vsSkopeo}`);
}
const pair = (a: string, b: string) => {
  const ra = rows.find((r) => r.name.startsWith(a));
  const rb = rows.find((r) => r.name.startsWith(b));
  if (ra?.times.length && rb?.times.length) console.log(`${a} / ${b}: ${(median(ra.times) / median(rb.times)).toFixed(2)} (time ratio; below 1 is faster)`);
};
pair('berth import', 'podman import');
pair('berth save', 'podman save');
pair('berth load', 'podman load');
// podman's overlay storage leaves mounts only while containers exist; none here.
rmSync(work, { recursive: true, force: true });
