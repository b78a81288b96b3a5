/**
 * The unpack paths the speed benchmark measures (`npm run bench -- snapshot`), checked for
 * correctness rather than speed: a 200 MB layer of random data and a layer of 2,000 small files,
 * read from a file in 1 MiB chunks as a pull would hand them over, for both drivers. Each layer's
 * diff ID is the tar's digest and every file comes out byte for byte, with its mode and mtime;
 * removing the layer leaves nothing behind. No timing is asserted here.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { Snapshotter, type Driver } from '../../src/snapshot/index.js';

const isRoot = process.getuid?.() === 0;
const MTIME = new Date(1_600_000_000_000);

async function tarOf(entries: { name: string; body: Buffer }[]): Promise<Buffer> {
  const p = tarStream.pack();
  for (const e of entries) p.entry({ name: e.name, mode: 0o644, mtime: MTIME }, e.body);
  p.finalize();
  const out: Buffer[] = [];
  for await (const c of p) out.push(c as Buffer);
  return Buffer.concat(out);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const digest = (b: Buffer) => `sha256:${sha(b)}`;

describe('unpack of big and many-file layers', { skip: isRoot ? false : 'needs root' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-snap-speed-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Unpacks `tar` from a file, checks the result against `entries`, removes the layer again. */
  async function unpackAndCheck(driver: Driver, name: string, entries: { name: string; body: Buffer }[]): Promise<void> {
    const tar = await tarOf(entries);
    const file = join(dir, `${name}.tar`);
    writeFileSync(file, tar);
    const root = join(dir, `root-${driver}`);
    const s = new Snapshotter(root, driver);
    const id = digest(tar);
    const r = await s.applyLayer(id, undefined, createReadStream(file, { highWaterMark: 1 << 20 }));
    rmSync(file);
    assert.equal(r.diffId, id, 'the diff ID is the digest of the tar');
    assert.ok(s.hasLayer(id));
    assert.ok(r.size >= entries.reduce((n, e) => n + e.body.length, 0), `size ${r.size} covers the content`);
    const layer = s.layerPath(id);
    const bad: string[] = [];
    for (const e of entries) {
      const p = join(layer, e.name);
      const st = statSync(p);
      if (!st.isFile() || (st.mode & 0o7777) !== 0o644 || st.mtimeMs !== MTIME.getTime()) bad.push(`${e.name}: mode ${(st.mode & 0o7777).toString(8)}, mtime ${st.mtime.toISOString()}`);
      else if (st.size !== e.body.length || sha(readFileSync(p)) !== sha(e.body)) bad.push(`${e.name}: content differs (${st.size} bytes, want ${e.body.length})`);
    }
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} files wrong`);
    const tops = new Set(entries.map((e) => e.name.split('/')[0]!));
    assert.deepEqual(readdirSync(layer).sort(), [...tops].sort(), 'nothing but the tar\'s entries');
    const files = [...tops].reduce((n, t) => n + readdirSync(join(layer, t)).length, 0);
    assert.equal(files, entries.length);
    s.removeLayer(id);
    assert.equal(s.hasLayer(id), false);
    assert.deepEqual(s.listLayers(), []);
  }

  for (const driver of ['overlay', 'vfs'] as Driver[]) {
    it(`${driver}: a 200 MB layer of random data`, async () => {
      await unpackAndCheck(driver, '200 MB random', [{ name: 'data/random.bin', body: randomBytes(200 << 20) }]);
    });

    it(`${driver}: 2,000 small files`, async () => {
      const entries = Array.from({ length: 2000 }, (_, i) => ({ name: `d${i % 40}/file-${i}.txt`, body: randomBytes(512 + ((i * 37) % 4096)) }));
      await unpackAndCheck(driver, '2,000 small files', entries);
    });
  }
});
