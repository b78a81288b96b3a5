/**
 * Unpack speed on the temporary directory's file system (tmpfs here): a 200 MB layer of random
 * data and a layer of 2,000 small files, read from a file as a pull would hand them over, for both
 * drivers. The figures are printed as test diagnostics; the bound checked is the design's
 * "well over 100 MB/s" for the big layer, with room for a loaded machine.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { Snapshotter, type Driver } from '../../src/snapshot/index.js';

const isRoot = process.getuid?.() === 0;

async function tarOf(entries: { name: string; body: Buffer }[]): Promise<Buffer> {
  const p = tarStream.pack();
  for (const e of entries) p.entry({ name: e.name, mode: 0o644, mtime: new Date(1_600_000_000_000) }, e.body);
  p.finalize();
  const out: Buffer[] = [];
  for await (const c of p) out.push(c as Buffer);
  return Buffer.concat(out);
}

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('unpack speed', { skip: isRoot ? false : 'needs root' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-snap-speed-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function measure(t: { diagnostic(s: string): void }, driver: Driver, name: string, tar: Buffer): Promise<number> {
    const file = join(dir, `${name}.tar`);
    writeFileSync(file, tar);
    const s = new Snapshotter(join(dir, `root-${driver}`), driver);
    const id = digest(tar);
    const t0 = process.hrtime.bigint();
    await s.applyLayer(id, undefined, createReadStream(file, { highWaterMark: 1 << 20 }));
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const mbs = tar.length / 1e6 / sec;
    t.diagnostic(`${driver}: ${name}: ${(tar.length / 1e6).toFixed(1)} MB in ${(sec * 1000).toFixed(0)} ms = ${mbs.toFixed(0)} MB/s`);
    s.removeLayer(id);
    rmSync(file);
    return mbs;
  }

  for (const driver of ['overlay', 'vfs'] as Driver[]) {
    it(`${driver}: a 200 MB layer of random data`, async (t) => {
      const tar = await tarOf([{ name: 'data/random.bin', body: randomBytes(200 << 20) }]);
      assert.ok((await measure(t, driver, '200 MB random', tar)) > 100);
    });

    it(`${driver}: 2,000 small files`, async (t) => {
      const entries = Array.from({ length: 2000 }, (_, i) => ({ name: `d${i % 40}/file-${i}.txt`, body: randomBytes(512 + ((i * 37) % 4096)) }));
      const tar = await tarOf(entries);
      const mbs = await measure(t, driver, '2,000 small files', tar);
      assert.ok(mbs > 5);
    });
  }
});
