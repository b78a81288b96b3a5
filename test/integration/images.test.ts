/**
 * The image store on the real kernel: the starter image, layers shared between images, a
 * container's copy-on-write layer, save → load round trips, corruption and bad input.
 */
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import tar from 'tar-stream';
import { ImageService, loadArchive, saveArchive } from '../../src/engine/index.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const skip = !isRoot ? 'needs root' : false;

/** An in-memory tar of the given entries. */
function tarOf(entries: { name: string; type?: "file" | "directory" | "symlink" | "link"; data?: string; linkname?: string; mode?: number }[]): AsyncIterable<unknown> {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') pack.entry({ name: e.name, mode: e.mode ?? 0o644, mtime: new Date(1_600_000_000_000) }, e.data ?? '');
    else pack.entry({ name: e.name, type, linkname: e.linkname, mode: e.mode ?? 0o755, mtime: new Date(1_600_000_000_000) });
  }
  pack.finalize();
  return pack;
}

describe('images', { skip }, () => {
  after(() => cleanupTmp());

  it('makes the busybox starter image and lists, inspects and shows its history', async () => {
    const svc = new ImageService({ root: tmp() });
    const rec = await svc.starter();
    const list = svc.list();
    assert.equal(list.length, 1);
    assert.deepEqual(list[0]!.RepoTags, ['busybox:latest']);
    assert.equal(list[0]!.Id, rec.id);
    const ins = svc.inspect('busybox') as { Id: string; RootFS: { Layers: string[] }; Config: { Cmd: string[] } };
    assert.equal(ins.Id, rec.id);
    assert.equal(ins.RootFS.Layers.length, 1);
    assert.deepEqual(ins.Config.Cmd, ['sh']);
    assert.equal(svc.resolve(rec.id.slice(7, 19)).id, rec.id);
    const hist = svc.history('busybox:latest');
    assert.equal(hist.length, 1);
    assert.match(hist[0]!.CreatedBy, /busybox-static/);
  });

  it("refuses to remove an image a container uses unless forced (dockerd's rules)", async () => {
    let users: { Id: string; running: boolean }[] = [];
    let inUse = new Map<string, string>();
    const svc = new ImageService({ root: tmp(), inUse: () => inUse, users: () => users });
    const rec = await svc.starter();
    const c = 'c'.repeat(64);
    inUse = new Map([[rec.id, c]]);
    users = [{ Id: c, running: false }];
    assert.throws(() => svc.remove('busybox'), /conflict: unable to remove repository reference "busybox" \(must force\) - container cccccccccccc is using its referenced image/);
    assert.throws(() => svc.remove(rec.id), /\(must be forced\) - image is being used by stopped container cccccccccccc/);
    assert.equal(svc.list().length, 1);
    // A running container's image: forced by reference, the tag goes and the image stays; by id, it cannot be forced.
    users = [{ Id: c, running: true }];
    assert.deepEqual(svc.remove('busybox', { force: true }), [{ Untagged: 'busybox:latest' }]);
    assert.equal(svc.list()[0]!.RepoTags.length, 0);
    assert.throws(() => svc.remove(rec.id, { force: true }), /\(cannot be forced\) - image is being used by running container/);
    // A stopped one's: forced, the image goes (and its layer).
    users = [{ Id: c, running: false }];
    const r = svc.remove(rec.id, { force: true });
    assert.deepEqual(r.map((e) => Object.keys(e)[0]), ['Deleted', 'Deleted']);
    assert.equal(r[0]!.Deleted, rec.id);
    assert.equal(svc.list().length, 0);
  });

  it('shares a base layer between two images: one copy on disk', async () => {
    const svc = new ImageService({ root: tmp() });
    const base = await svc.importTar(tarOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/base.txt', data: 'base\n' }]), { ref: 'base:1' });
    const top = await svc.addLayer(tarOf([{ name: 'app.txt', data: 'app\n' }]), base.layers[0]!.chainId, [base.layers[0]!.diffId]);
    const derived = svc.storeImage({ config: { ...svc.config(base), rootfs: { type: 'layers', diff_ids: [base.layers[0]!.diffId, top.diffId] } }, layers: [base.layers[0]!, top], ref: 'derived:1' });
    assert.equal(derived.layers[0]!.chainId, base.layers[0]!.chainId);
    assert.equal(svc.snapshots.listLayers().length, 2);
    assert.equal(svc.list().length, 2);
    // Removing the derived image keeps the shared base.
    svc.remove('derived:1');
    assert.deepEqual(svc.snapshots.listLayers(), [base.layers[0]!.chainId]);
  });

  it('round-trips save → load with the same image id and manifest digest', async () => {
    const a = new ImageService({ root: tmp() });
    const rec = await a.starter('busybox:rt');
    const file = join(tmp(), 'busybox.tar');
    await saveArchive(a, ['busybox:rt'], createWriteStream(file), { format: 'docker-archive', file });
    const b = new ImageService({ root: tmp() });
    const loaded = await loadArchive(b, createReadStream(file), { source: file });
    assert.deepEqual(loaded, [{ id: rec.id, ref: 'busybox:rt' }]);
    assert.equal(b.resolve('busybox:rt').manifestDigest, rec.manifestDigest);
    // OCI archive as well
    const oci = join(tmp(), 'busybox-oci.tar');
    await saveArchive(a, ['busybox:rt'], createWriteStream(oci), { format: 'oci-archive', file: oci });
    const c = new ImageService({ root: tmp() });
    const l2 = await loadArchive(c, createReadStream(oci), { source: oci });
    assert.equal(l2[0]!.id, rec.id);
    assert.equal(c.resolve(rec.id).manifestDigest, rec.manifestDigest);
  });

  it('detects a corrupted blob and names it', async () => {
    const svc = new ImageService({ root: tmp() });
    const rec = await svc.starter();
    const path = svc.content.path(rec.configDigest);
    const bytes = readFileSync(path);
    bytes[5] ^= 0xff;
    writeFileSync(path, bytes);
    assert.throws(() => svc.content.verify(rec.configDigest), new RegExp(`${rec.configDigest}.*(corrupt|does not match)`));
  });

  it('refuses a layer tar that escapes and stores nothing', async () => {
    const root = tmp();
    const svc = new ImageService({ root });
    await assert.rejects(svc.importTar(tarOf([{ name: '../escape.txt', data: 'x' }]), { ref: 'bad:1' }), /escape/);
    assert.equal(svc.list().length, 0);
    assert.equal(svc.snapshots.listLayers().length, 0);
    assert.equal(svc.content.list().length, 0);
  });

  it('refuses a truncated archive, a tampered OCI blob and a bad reference', async () => {
    const a = new ImageService({ root: tmp() });
    await a.starter('busybox:x');
    const file = join(tmp(), 'img.tar');
    await saveArchive(a, ['busybox:x'], createWriteStream(file), { format: 'oci-archive', file });
    const whole = readFileSync(file);
    const cut = join(tmp(), 'cut.tar');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const b = new ImageService({ root: tmp() });
    await assert.rejects(loadArchive(b, createReadStream(cut), { source: cut }), /truncated|unexpected end/i);
    assert.equal(b.list().length, 0);
    assert.equal(b.content.list().length, 0);
    // A layer whose bytes do not match its name, in an archive that names its layers first (so it
    // is unpacked as it streams): refused, and neither the layer nor the image stays.
    const dockerFile = join(tmp(), 'img-docker.tar');
    await saveArchive(a, ['busybox:x'], createWriteStream(dockerFile), { format: 'docker-archive', file: dockerFile });
    for (const original of [whole, readFileSync(dockerFile)]) {
      const tampered = Buffer.from(original);
      tampered[Math.floor(tampered.length / 2) + 3] ^= 0xff;
      const bad = join(tmp(), 'tampered.tar');
      writeFileSync(bad, tampered);
      const c = new ImageService({ root: tmp() });
      await assert.rejects(loadArchive(c, createReadStream(bad), { source: bad }), /corrupt|does not match|mismatch/);
      assert.equal(c.list().length, 0);
      assert.equal(c.snapshots.listLayers().length, 0);
      assert.equal(c.content.list().length, 0);
    }
    await assert.rejects(a.importTar(tarOf([]), { ref: 'Bad:Ref' }), /invalid reference format/);
    assert.throws(() => a.resolve('nosuch:image'), /No such image: nosuch:image/);
    void existsSync;
    void pipeline;
  });
});

describe('compressed layers', { skip: skip || (!existsSync('/usr/bin/zstd') ? 'zstd is not installed (scripts/setup.sh installs it)' : false) }, () => {
  after(() => cleanupTmp());
  it('applies gzip and zstd layers, checking the diff ID of the uncompressed tar', async () => {
    const { execFileSync } = await import('node:child_process');
    const { createHash } = await import('node:crypto');
    const { gzipSync } = await import('node:zlib');
    const chunks: Buffer[] = [];
    for await (const c of tarOf([{ name: 'hello.txt', data: 'hello from a compressed layer\n'.repeat(1000) }])) chunks.push(c as Buffer);
    const plain = Buffer.concat(chunks);
    const diffId = 'sha256:' + createHash('sha256').update(plain).digest('hex');
    const svc = new ImageService({ root: tmp() });
    for (const [name, data] of [['gzip', gzipSync(plain)], ['zstd', execFileSync('zstd', ['-q', '-c'], { input: plain })]] as const) {
      const root = new ImageService({ root: tmp() }).snapshots;
      const r = await root.applyLayer(diffId, undefined, Readable.from([data]), { expectDiffId: diffId });
      assert.equal(r.diffId, diffId, name);
      assert.equal(readFileSync(join(root.layerPath(diffId), 'hello.txt'), 'utf8').length, 30 * 1000);
    }
    void svc;
  });
});

describe('container layer: copy-on-write, diff and commit', { skip }, () => {
  after(() => cleanupTmp());
  for (const driver of ['overlay', 'vfs'] as const) {
    it(`${driver}: changes stay in the container's layer; diff shows them; commit makes an image with them`, async () => {
      const { runFsOps } = await import('../../src/sys/fsops.js');
      const { createHash } = await import('node:crypto');
      const fs = await import('node:fs');
      const svc = new ImageService({ root: tmp(), storageDriver: driver });
      const base = await svc.importTar(
        tarOf([
          { name: 'etc/', type: 'directory' },
          { name: 'etc/keep.txt', data: 'keep\n' },
          { name: 'etc/change.txt', data: 'old\n' },
          { name: 'etc/delete.txt', data: 'bye\n' },
        ]),
        { ref: 'cow:base' },
      );
      const layerDir = svc.snapshots.layerPath(base.layers[0]!.chainId);
      const hashTree = (d: string): string => {
        const h = createHash('sha256');
        const walk = (p: string) => {
          for (const n of fs.readdirSync(p).sort()) {
            const q = join(p, n);
            const st = fs.lstatSync(q);
            h.update(`${q.slice(d.length)} ${st.mode} ${st.size}\n`);
            if (st.isDirectory()) walk(q);
            else if (st.isFile()) h.update(fs.readFileSync(q));
          }
        };
        walk(d);
        return h.digest('hex');
      };
      const before = hashTree(layerDir);
      const key = 'ctr-' + driver;
      const mounts = svc.snapshots.prepare(key, base.layers[0]!.chainId);
      const target = join(tmp(), 'rootfs');
      fs.mkdirSync(target);
      const m = mounts[0]!;
      if (m.type === 'overlay') await runFsOps([{ op: 'mount', source: 'overlay', target, fstype: 'overlay', data: m.options.join(',') }]);
      else await runFsOps([{ op: 'mount', source: m.source, target, fstype: '', flags: 4096 | 16384 }]);
      try {
        fs.writeFileSync(join(target, 'etc/change.txt'), 'new\n');
        fs.writeFileSync(join(target, 'etc/added.txt'), 'hi\n');
        fs.rmSync(join(target, 'etc/delete.txt'));
      } finally {
        await runFsOps([{ op: 'umount', target }]);
      }
      assert.equal(hashTree(layerDir), before, "the image's layer changed");
      const changes = await svc.snapshots.changes(key);
      assert.deepEqual(changes, [
        { kind: 'C', path: '/etc' },
        { kind: 'A', path: '/etc/added.txt' },
        { kind: 'C', path: '/etc/change.txt' },
        { kind: 'D', path: '/etc/delete.txt' },
      ]);
      // export: the merged file system as a tar
      const names: string[] = [];
      const ex = tar.extract();
      ex.on('entry', (h, st, next) => {
        names.push(h.name);
        st.resume();
        st.on('end', next);
      });
      (await svc.exportSnapshot(key)).pipe(ex);
      await new Promise<void>((r) => ex.on('finish', () => r()));
      assert.ok(names.includes('etc/added.txt') && names.includes('etc/keep.txt') && names.includes('etc/change.txt'), names.join(' '));
      assert.ok(!names.includes('etc/delete.txt'));
      const img = await svc.commitSnapshot(key, base, { ref: 'cow:committed', message: 'my change', changes: ['CMD ["cat", "/etc/change.txt"]'] });
      assert.equal(img.layers.length, 2);
      const hist = svc.history('cow:committed');
      assert.equal(hist.length, 2);
      assert.equal(hist[0]!.Comment, 'my change');
      assert.ok(hist[0]!.Size > 0);
      assert.deepEqual((svc.inspect('cow:committed') as { Config: { Cmd: string[] } }).Config.Cmd, ['cat', '/etc/change.txt']);
      // A new container of the committed image sees the change.
      const m2 = svc.snapshots.prepare('ctr2-' + driver, img.layers[1]!.chainId)[0]!;
      const t2 = join(tmp(), 'rootfs2');
      fs.mkdirSync(t2);
      if (m2.type === 'overlay') await runFsOps([{ op: 'mount', source: 'overlay', target: t2, fstype: 'overlay', data: m2.options.join(',') }]);
      else await runFsOps([{ op: 'mount', source: m2.source, target: t2, fstype: '', flags: 4096 | 16384 }]);
      try {
        assert.equal(fs.readFileSync(join(t2, 'etc/change.txt'), 'utf8'), 'new\n');
        assert.equal(fs.readFileSync(join(t2, 'etc/added.txt'), 'utf8'), 'hi\n');
        assert.equal(fs.existsSync(join(t2, 'etc/delete.txt')), false);
        assert.equal(fs.readFileSync(join(t2, 'etc/keep.txt'), 'utf8'), 'keep\n');
      } finally {
        await runFsOps([{ op: 'umount', target: t2 }]);
      }
      svc.snapshots.remove(key);
      svc.snapshots.remove('ctr2-' + driver);
    });
  }
});
