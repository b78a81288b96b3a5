/**
 * `npm run bench -- snapshot`: unpack speed of the snapshotter on the temporary directory's file
 * system, for both drivers: a 200 MB layer of random data and a layer of 2,000 small files, read
 * from a file as a pull would hand them over. Prints MB/s (median of BENCH_RUNS rounds); the
 * design's goal for the big layer is "well over 100 MB/s". (It was a test once; a loaded machine
 * missed its thresholds, so the figures live here and test/integration/snapshot-speed checks only
 * that the same layers unpack correctly.)
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tarStream from 'tar-stream';
import { Snapshotter, type Driver } from '../src/snapshot/index.js';
import { median, ms } from './common.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const work = mkdtempSync(join(tmpdir(), 'berth-bench-snap-'));

async function tarOf(entries: { name: string; body: Buffer }[]): Promise<Buffer> {
  const p = tarStream.pack();
  for (const e of entries) p.entry({ name: e.name, mode: 0o644, mtime: new Date(1_600_000_000_000) }, e.body);
  p.finalize();
  const out: Buffer[] = [];
  for await (const c of p) out.push(c as Buffer);
  return Buffer.concat(out);
}

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const layers: { name: string; tar: Buffer }[] = [
  { name: '200 MB random', tar: await tarOf([{ name: 'data/random.bin', body: randomBytes(200 << 20) }]) },
  {
    name: '2,000 small files',
    tar: await tarOf(Array.from({ length: 2000 }, (_, i) => ({ name: `d${i % 40}/file-${i}.txt`, body: randomBytes(512 + ((i * 37) % 4096)) }))),
  },
];

try {
  console.log(`snapshot benchmark: unpack into a layer on ${tmpdir()}, ${runs} runs each, median`);
  for (const l of layers) {
    const file = join(work, 'layer.tar');
    writeFileSync(file, l.tar);
    const id = digest(l.tar);
    for (const driver of ['overlay', 'vfs'] as Driver[]) {
      const s = new Snapshotter(join(work, `root-${driver}`), driver);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = process.hrtime.bigint();
        await s.applyLayer(id, undefined, createReadStream(file, { highWaterMark: 1 << 20 }));
        times.push(ms(process.hrtime.bigint() - t0));
        s.removeLayer(id);
      }
      const m = median(times);
      console.log(`${`${driver}: ${l.name}`.padEnd(32)} ${(l.tar.length / 1e6).toFixed(1).padStart(7)} MB ${m.toFixed(0).padStart(7)} ms ${(l.tar.length / 1e6 / (m / 1000)).toFixed(0).padStart(6)} MB/s`);
    }
    rmSync(file);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
