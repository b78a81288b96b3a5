/**
 * The copy pipeline over every transport pair: the local store, docker-archive and oci-archive
 * tar streams (gzip'd or not, berth's order and a legacy order), OCI layout directories and a
 * root file system tar. Images keep their id and manifest digest; layers are unpacked as they
 * arrive where the source names its images first; a blob that does not match its digest is
 * refused before its stream ends and leaves nothing behind in any destination.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import tar from 'tar-stream';
import { ContentStore } from '../../content/index.js';
import { MediaType, type ImageConfig } from '../../oci/image-spec.js';
import { Snapshotter } from '../../snapshot/index.js';
import { recordImage, storeLayer, type LocalStore } from '../local.js';
import { ImageStore, type ImageRecord } from '../store.js';
import {
  archiveDestination,
  archiveSource,
  copyImage,
  layoutDirDestination,
  layoutDirSource,
  storeDestination,
  storeSource,
  tarballSource,
  type BlobHint,
  type CopyEvent,
  type ImageDestination,
  type ImageSource,
} from './index.js';

const skip = process.getuid?.() !== 0 ? 'needs root (layers are unpacked with their owners)' : false;
const dirs: string[] = [];
const tmp = (p = 'berth-copy-') => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

function newStore(): LocalStore {
  const root = tmp('berth-copy-store-');
  return { content: new ContentStore(join(root, 'content'), { durable: false }), images: new ImageStore(join(root, 'metadata')), snapshots: new Snapshotter(join(root, 'snapshots'), 'vfs') };
}

async function tarBytes(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, data] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(1_600_000_000_000) }, data);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** A two-layer image in `store`, tagged `ref`. */
async function twoLayerImage(store: LocalStore, ref: string): Promise<ImageRecord> {
  const base = await storeLayer(store, Readable.from([await tarBytes({ 'etc/base.txt': 'base\n' })]), undefined, []);
  const top = await storeLayer(store, Readable.from([await tarBytes({ 'app.txt': 'app\n'.repeat(50_000) })]), base.chainId, [base.diffId]);
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created: '2020-09-13T12:26:40.000Z',
    config: { Cmd: ['/app'] } as ImageConfig['config'],
    rootfs: { type: 'layers', diff_ids: [base.diffId, top.diffId] },
    history: [{ created_by: 'base' }, { created_by: 'top' }],
  };
  return recordImage(store, { config, layers: [base, top], ref });
}

const fullRef = (r: string) => `docker.io/library/${r}`;

/** What a store holds, to compare two stores (or a store with nothing). */
function contents(store: LocalStore) {
  return {
    images: store.images.list().map((r) => r.id).sort(),
    refs: store.images.refs().sort((a, b) => a.ref.localeCompare(b.ref)),
    blobs: store.content.list().map((b) => b.digest).sort(),
    layers: store.snapshots.listLayers(),
    ingest: existsSync(join(store.content.root, 'ingest')) ? readdirSync(join(store.content.root, 'ingest')) : [],
  };
}

function assertSameImage(a: LocalStore, b: LocalStore, id: string) {
  const ra = a.images.require(id);
  const rb = b.images.require(id);
  assert.equal(rb.manifestDigest, ra.manifestDigest);
  assert.deepEqual(rb.layers, ra.layers);
  for (const l of rb.layers) assert.ok(b.snapshots.hasLayer(l.chainId), `layer ${l.chainId} unpacked`);
  assert.equal(readFileSync(join(b.snapshots.layerPath(rb.layers[1]!.chainId), 'app.txt'), 'utf8').length, 4 * 50_000);
}

/** A destination that records the hints it was given and passes everything on. */
function recording(d: ImageDestination, hints: BlobHint[]): ImageDestination {
  return { ...d, putBlob: (b) => (hints.push(b.hint), d.putBlob(b)) };
}

async function toFile(file: string, run: (out: Writable) => Promise<unknown>) {
  await run(createWriteStream(file));
  return file;
}

describe('image copy pipeline', { skip }, () => {
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('store → docker-archive → store: same id, manifest, tags; layers unpacked as they arrive', async () => {
    const a = newStore();
    const rec = await twoLayerImage(a, fullRef('two:1'));
    const file = join(tmp(), 'two.tar');
    const events: CopyEvent[] = [];
    await toFile(file, (out) => copyImage(storeSource(a, [{ rec, names: [fullRef('two:1')] }]), archiveDestination(out, { format: 'docker-archive', file }), { onEvent: (e) => events.push(e) }));
    assert.ok(events.some((e) => e.kind === 'blob-done' && e.role === 'layer'));
    const b = newStore();
    const hints: BlobHint[] = [];
    const copied = await copyImage(archiveSource(createReadStream(file), { what: 'load two.tar' }), recording(storeDestination(b), hints));
    assert.deepEqual(copied, [{ id: rec.id, manifestDigest: rec.manifestDigest, names: [fullRef('two:1')] }]);
    assertSameImage(a, b, rec.id);
    assert.equal(b.images.getRef(fullRef('two:1')), rec.id);
    // berth's archives name their images before the layers: each layer came with its diff IDs.
    const layerHints = hints.filter((h) => h.role === 'layer');
    assert.deepEqual(layerHints.map((h) => h.diffIds?.length), [1, 2]);
  });

  it('store → oci-archive (gzip\'d) → store, and oci-archive → oci-archive', async () => {
    const a = newStore();
    const rec = await twoLayerImage(a, fullRef('two:oci'));
    const file = join(tmp(), 'two-oci.tar');
    await toFile(file, (out) => copyImage(storeSource(a, [{ rec, names: [fullRef('two:oci')] }]), archiveDestination(out, { format: 'oci-archive', file })));
    const names = await memberNames(readFileSync(file));
    assert.ok(names.includes('index.json') && !names.includes('manifest.json'), names.join(' '));
    const gz = join(tmp(), 'two-oci.tar.gz');
    writeFileSync(gz, gzipSync(readFileSync(file)));
    const b = newStore();
    await copyImage(archiveSource(createReadStream(gz), { what: 'load gz' }), storeDestination(b));
    assertSameImage(a, b, rec.id);
    // tar → tar: the same blobs and index.
    const again = join(tmp(), 'again.tar');
    await toFile(again, (out) => copyImage(archiveSource(createReadStream(gz), { what: 'read gz' }), archiveDestination(out, { format: 'oci-archive', file: again })));
    assert.deepEqual((await memberNames(readFileSync(again))).sort(), [...names].sort());
  });

  it('store → oci-layout dir → store, and oci-layout dir → docker-archive → store', async () => {
    const a = newStore();
    const rec = await twoLayerImage(a, fullRef('two:dir'));
    const dir = join(tmp(), 'layout');
    await copyImage(storeSource(a, [{ rec, names: [fullRef('two:dir')] }]), layoutDirDestination(dir));
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, rec.manifestDigest);
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'dir');
    const b = newStore();
    const copied = await copyImage(layoutDirSource(dir), storeDestination(b));
    assert.deepEqual(copied[0]!.names, [fullRef('two:dir')]);
    assertSameImage(a, b, rec.id);
    const file = join(tmp(), 'from-dir.tar');
    await toFile(file, (out) => copyImage(layoutDirSource(dir), archiveDestination(out, { format: 'docker-archive', file })));
    const c = newStore();
    await copyImage(archiveSource(createReadStream(file), { what: 'load from-dir.tar' }), storeDestination(c));
    assertSameImage(a, c, rec.id);
  });

  it('docker-archive in the legacy order (layers first, unnamed by digest, manifest.json last) → store and → oci-layout dir', async () => {
    const l1 = await tarBytes({ 'etc/base.txt': 'base\n' });
    const l2 = await tarBytes({ 'app.txt': 'app\n'.repeat(50_000) });
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(l1), sha(l2)] } }));
    const pack = tar.pack();
    pack.entry({ name: 'aaa/layer.tar' }, l1);
    pack.entry({ name: 'aaa/VERSION' }, '1.0');
    pack.entry({ name: 'bbb/layer.tar' }, l2);
    pack.entry({ name: `${sha(cfg).slice(7)}.json` }, cfg);
    pack.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: `${sha(cfg).slice(7)}.json`, RepoTags: ['legacy:1'], Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }]));
    pack.entry({ name: 'repositories' }, '{}');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const file = join(tmp(), 'legacy.tar');
    writeFileSync(file, Buffer.concat(chunks));
    const b = newStore();
    const [copied] = await copyImage(archiveSource(createReadStream(file), { what: 'load legacy.tar' }), storeDestination(b));
    assert.equal(copied!.id, sha(cfg));
    assert.deepEqual(copied!.names, [fullRef('legacy:1')]);
    const rec = b.images.require(sha(cfg));
    assert.deepEqual(rec.layers.map((l) => l.diffId), [sha(l1), sha(l2)]);
    assert.equal(readFileSync(join(b.snapshots.layerPath(rec.layers[1]!.chainId), 'app.txt'), 'utf8').length, 4 * 50_000);
    // Only the image's blobs (and the manifest berth wrote) are kept: not VERSION nor repositories.
    assert.deepEqual(contents(b).blobs, [rec.manifestDigest, sha(cfg), sha(l1), sha(l2)].sort());
    // To a layout directory: the manifest the pipeline wrote is the one the store recorded.
    const dir = join(tmp(), 'legacy-layout');
    await copyImage(archiveSource(createReadStream(file), { what: 'read legacy.tar' }), layoutDirDestination(dir));
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, rec.manifestDigest);
    for (const d of [rec.manifestDigest, sha(cfg), sha(l1), sha(l2)]) assert.ok(existsSync(join(dir, 'blobs', 'sha256', d.slice(7))), d);
  });

  it('rootfs tar (import) → store and → oci-layout dir', async () => {
    const layer = await tarBytes({ 'hello.sh': 'echo hi\n' });
    const config = (diffId: string): ImageConfig => ({ architecture: 'amd64', os: 'linux', created: '2021-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [diffId] } });
    const b = newStore();
    const [copied] = await copyImage(tarballSource(Readable.from([layer]), { names: [fullRef('imp:1')], config }), storeDestination(b));
    const rec = b.images.require(copied!.id);
    assert.equal(rec.layers[0]!.diffId, sha(layer));
    assert.equal(rec.layers[0]!.mediaType, MediaType.ociLayer);
    assert.ok(existsSync(join(b.snapshots.layerPath(rec.layers[0]!.chainId), 'hello.sh')));
    // From a file (an fs.ReadStream: a stream, though it has an open() of its own).
    const file = join(tmp(), 'rootfs.tar');
    writeFileSync(file, layer);
    const dir = join(tmp(), 'imported');
    const [toDir] = await copyImage(tarballSource(createReadStream(file), { names: [], config }), layoutDirDestination(dir));
    assert.equal(toDir!.id, rec.id);
    assert.equal(toDir!.manifestDigest, rec.manifestDigest);
  });

  it('a transport of its own (blobs opened asynchronously, as a registry does) plugs in without changes to the core', async () => {
    const a = newStore();
    const rec = await twoLayerImage(a, fullRef('two:remote'));
    const opened: string[] = [];
    const remote: ImageSource = {
      what: 'pull example',
      async read(w) {
        const cfg = a.content.read(rec.configDigest);
        const man = a.content.read(rec.manifestDigest);
        await w.blob(man, { digest: rec.manifestDigest, role: 'manifest' });
        await w.blob(cfg, { digest: rec.configDigest, role: 'config' });
        await w.images([{ names: [fullRef('two:pulled')], manifest: { digest: rec.manifestDigest, mediaType: rec.manifestMediaType, size: man.length }, config: { digest: rec.configDigest, size: cfg.length, bytes: cfg }, layers: rec.layers }]);
        await Promise.all(
          rec.layers.map((l) =>
            w.blob({ open: async () => (await new Promise((r) => setImmediate(r)), opened.push(l.digest), a.content.createReadStream(l.digest)) }, { digest: l.digest, size: l.size }),
          ),
        );
      },
    };
    const b = newStore();
    const [copied] = await copyImage(remote, storeDestination(b));
    assert.deepEqual(copied!.names, [fullRef('two:pulled')]);
    assertSameImage(a, b, rec.id);
    assert.equal(opened.length, 2);
    // Copied again: every blob is there, nothing is opened.
    opened.length = 0;
    await copyImage(remote, storeDestination(b));
    assert.equal(opened.length, 0);
  });

  it('a blob that does not match its digest is refused before its stream ends, and leaves nothing behind', async () => {
    const a = newStore();
    const rec = await twoLayerImage(a, fullRef('two:bad'));
    const dir = join(tmp(), 'good-layout');
    await copyImage(storeSource(a, [{ rec, names: [fullRef('two:bad')] }]), layoutDirDestination(dir));
    // Tamper with the top layer in the layout: same size, other bytes.
    const top = rec.layers[1]!.digest;
    const p = join(dir, 'blobs', 'sha256', top.slice(7));
    const bytes = Buffer.from(readFileSync(p));
    bytes[bytes.length - 2000]! ^= 0xff;
    rmSync(p);
    writeFileSync(p, bytes);

    // A destination that reads the stream itself sees an error, not the end.
    let ended = false;
    let failed: unknown;
    const probe: ImageDestination = {
      has: () => false,
      putBlob: async (b) => {
        const s = b.stream();
        try {
          for await (const c of s) void c;
          if (b.hint.digest === top) ended = true;
        } catch (e) {
          if (b.hint.digest === top) failed = e;
          throw e;
        }
        return { digest: b.hint.digest!, size: b.hint.size! };
      },
      commit: async () => [],
      abort: async () => undefined,
    };
    await assert.rejects(copyImage(layoutDirSource(dir), probe), /does not match its digest/);
    assert.equal(ended, false);
    assert.match(String(failed), new RegExp(top));

    // Into a store: no blob, no layer, no image, no tag, no ingest file.
    const b = newStore();
    const empty = contents(b);
    await assert.rejects(copyImage(layoutDirSource(dir), storeDestination(b)), new RegExp(`blob ${top}: content does not match its digest`));
    assert.deepEqual(contents(b), empty);
    // Into a layout directory: removed.
    const out = join(tmp(), 'out-layout');
    await assert.rejects(copyImage(layoutDirSource(dir), layoutDirDestination(out)), /does not match its digest/);
    assert.equal(existsSync(out), false);
    // Into an archive file: removed.
    const file = join(tmp(), 'out.tar');
    await assert.rejects(toFile(file, (o) => copyImage(layoutDirSource(dir), archiveDestination(o, { format: 'oci-archive', file }))), /does not match its digest/);
    assert.equal(existsSync(file), false);

    // The same in an archive stream, where the layer is unpacked as it arrives: refused, nothing kept,
    // also not the layer below it that this load had unpacked.
    const good = join(tmp(), 'good.tar');
    await toFile(good, (o) => copyImage(storeSource(a, [{ rec, names: [fullRef('two:bad')] }]), archiveDestination(o, { format: 'docker-archive', file: good })));
    const whole = readFileSync(good);
    const at = whole.indexOf(Buffer.from('app\napp\n'));
    assert.ok(at > 0);
    whole[at + 1000]! ^= 0xff;
    const c = newStore();
    const before = contents(c);
    await assert.rejects(copyImage(archiveSource(Readable.from([whole]), { what: 'load bad.tar' }), storeDestination(c)), /load bad\.tar: blob sha256:[0-9a-f]{64}: content does not match its digest/);
    assert.deepEqual(contents(c), before);
  });

  it('a failed load keeps what the store had: blobs, layers, images and tags of its own', async () => {
    const a = newStore();
    const rec = await twoLayerImage(a, fullRef('two:keep'));
    const file = join(tmp(), 'keep.tar');
    await toFile(file, (out) => copyImage(storeSource(a, [{ rec, names: [fullRef('two:keep')] }]), archiveDestination(out, { format: 'docker-archive', file })));
    const whole = readFileSync(file);
    // The store has the image already; a broken archive of it (cut short) changes nothing.
    const have = contents(a);
    await assert.rejects(copyImage(archiveSource(Readable.from([whole.subarray(0, whole.length - 3000)]), { what: 'load cut' }), storeDestination(a)), /unexpected end|truncated/);
    assert.deepEqual(contents(a), have);
    // An archive that is no archive at all.
    const s = new PassThrough();
    s.end(Buffer.from('not a tar archive '.repeat(100)));
    await assert.rejects(copyImage(archiveSource(s, { what: 'load junk' }), storeDestination(a)), /load junk: /);
    assert.deepEqual(contents(a), have);
  });
});

async function memberNames(archive: Buffer): Promise<string[]> {
  const names: string[] = [];
  const ex = tar.extract();
  ex.on('entry', (h, s, next) => {
    names.push(h.name);
    s.resume();
    s.on('end', next);
  });
  const done = new Promise<void>((r, j) => (ex.on('finish', () => r()), ex.on('error', j)));
  ex.end(archive);
  await done;
  return names;
}
