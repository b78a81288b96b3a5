/**
 * `save` and `load`: images as tar archives. `save` writes what current Docker writes: an OCI
 * image layout (oci-layout, index.json, blobs/sha256/…) with Docker's manifest.json beside it, so
 * that `docker load`, `podman load` and OCI tools (skopeo's oci-archive:) all read it; with
 * `oci-archive` the manifest.json is left out. `load` reads either, layers gzip'd or not.
 */
import { nodeZlib } from '../lib/builtins.js';
import { copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { familiarName, parseReference, type ImageRecord, type LayerRecord } from '../image/index.js';
import { invalidArgument, isBerthError } from '../lib/errors.js';
import { isIndexType, isLayerType, isManifestType, MediaType, parseImageConfig, parseIndex, parseManifest } from '../oci/image-spec.js';
import { chainId } from '../snapshot/index.js';
import type { ImageService } from './images.js';

export interface SaveOptions {
  format: 'docker-archive' | 'oci-archive';
  /** The destination file, so that a failed save removes it. */
  file?: string;
}

const hex = (d: string) => d.replace(/^sha256:/, '');
const blobPath = (d: string) => `blobs/sha256/${hex(d)}`;

/** Where save writes: a tar stream, or a directory (an OCI layout on disk). */
interface Sink {
  entry(name: string, data: Buffer): Promise<void>;
  blob(name: string, digest: string, size: number): Promise<void>;
  finish(): Promise<void>;
  abort(e: Error): Promise<void>;
}

function tarSink(svc: ImageService, dest: Writable): Sink {
  const pack = tar.pack();
  const done = pipeline(pack, dest);
  return {
    entry: (name, data) => new Promise<void>((res, rej) => pack.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? rej(e) : res()))),
    blob: (name, digest, size) =>
      new Promise<void>((res, rej) => {
        const e = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (err) => (err ? rej(err) : res()));
        svc.content.createReadStream(digest).on('error', rej).pipe(e);
      }),
    finish: async () => {
      pack.finalize();
      await done;
    },
    abort: async (e) => {
      pack.destroy(e);
      await done.catch(() => {});
    },
  };
}

function dirSink(svc: ImageService, dir: string): Sink {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  return {
    entry: async (name, data) => writeFileSync(join(dir, name), data),
    blob: async (name, digest) => {
      const target = join(dir, name);
      try {
        linkSync(svc.content.path(digest), target); // same file system: no copy
      } catch {
        copyFileSync(svc.content.path(digest), target);
      }
    },
    finish: async () => {},
    abort: async () => {},
  };
}

export async function saveArchive(svc: ImageService, names: string[], dest: Writable, opts: SaveOptions): Promise<void> {
  try {
    await writeImages(svc, names, tarSink(svc, dest), opts.format);
  } catch (e) {
    if (opts.file) rmSync(opts.file, { force: true });
    throw e;
  }
}

/** `save --format oci-dir`: the images as an OCI image layout directory. */
export async function saveLayoutDir(svc: ImageService, names: string[], dir: string): Promise<void> {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw invalidArgument(`save: ${JSON.stringify(dir)} exists and is not empty`);
  try {
    await writeImages(svc, names, dirSink(svc, dir), 'oci-archive');
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function writeImages(svc: ImageService, names: string[], sink: Sink, format: SaveOptions['format']): Promise<void> {
  const images: { rec: ImageRecord; tags: string[] }[] = [];
  for (const n of names) {
    const rec = svc.resolve(n);
    let tags: string[] = [];
    try {
      const ref = parseReference(n);
      if (!ref.digest && !/^(sha256:)?[0-9a-f]{4,64}$/.test(n)) tags = [ref.toString()];
    } catch {
      tags = [];
    }
    const prev = images.find((i) => i.rec.id === rec.id);
    if (prev) prev.tags.push(...tags);
    else images.push({ rec, tags });
  }
  const written = new Set<string>();
  const entry = (name: string, data: Buffer) => sink.entry(name, data);
  const fileEntry = (name: string, digest: string, size: number) => sink.blob(name, digest, size);
  try {
    await entry('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    // Metadata first (index.json, manifest.json, manifests, configs), then the layers: a reader
    // knows what each layer is when it reaches it and can unpack it as it streams by.
    const indexManifests: object[] = [];
    const dockerManifest: object[] = [];
    for (const { rec, tags } of images) {
      const manInfo = svc.content.info(rec.manifestDigest);
      if (!manInfo) throw invalidArgument(`save: manifest ${rec.manifestDigest} of image ${rec.id} is missing from the store`);
      const refs = tags.length ? tags : [undefined];
      for (const t of refs) {
        const annotations: Record<string, string> = {};
        if (t) {
          annotations['io.containerd.image.name'] = t;
          annotations['org.opencontainers.image.ref.name'] = parseReference(t).tag ?? 'latest';
        }
        indexManifests.push({ mediaType: rec.manifestMediaType, digest: rec.manifestDigest, size: manInfo.size, ...(t ? { annotations } : {}) });
      }
      dockerManifest.push({ Config: blobPath(rec.configDigest), RepoTags: tags.map(familiarName), Layers: rec.layers.map((l) => blobPath(l.digest)) });
    }
    const blobs = async (digests: string[], owner: string) => {
      for (const d of digests) {
        if (written.has(d)) continue;
        written.add(d);
        const info = svc.content.info(d);
        if (!info) throw invalidArgument(`save: blob ${d} of image ${owner} is missing from the store`);
        await fileEntry(blobPath(d), d, info.size);
      }
    };
    for (const { rec } of images) await blobs([rec.configDigest, rec.manifestDigest], rec.id);
    await entry('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: indexManifests })));
    if (format === 'docker-archive') await entry('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
    for (const { rec } of images) await blobs(rec.layers.map((l) => l.digest), rec.id);
    await sink.finish();
  } catch (e) {
    await sink.abort(e as Error);
    throw e;
  }
}

export interface Loaded {
  id: string;
  ref?: string;
}

/**
 * Reads an archive: every file is stored in the content store as it streams by (hashed once),
 * then the manifests say which blobs are configs and layers; layers are unpacked in order.
 */
export async function loadArchive(svc: ImageService, src: Readable, opts: { source?: string } = {}): Promise<Loaded[]> {
  const files = new Map<string, { digest: string; size: number }>();
  const before = new Set(svc.content.list().map((b) => b.digest));
  try {
    return await loadInto(svc, src, files, `load ${opts.source ?? 'stdin'}`);
  } catch (e) {
    // Nothing half-stored: blobs this load brought that no image uses go again.
    const used = new Set(svc.images.list().flatMap((r) => [r.manifestDigest, r.configDigest, ...r.layers.map((l) => l.digest)]));
    for (const { digest } of files.values()) if (!before.has(digest) && !used.has(digest)) svc.content.delete(digest);
    throw e;
  }
}

async function loadInto(svc: ImageService, src: Readable, files: Map<string, { digest: string; size: number }>, where: string): Promise<Loaded[]> {
  const extract = tar.extract();
  // gzip'd archives are read too.
  const head = new PassThrough();
  const first = await peek(src, 2);
  const input = first[0] === 0x1f && first[1] === 0x8b ? head.pipe(nodeZlib().createGunzip()) : head;
  head.end !== undefined && replay(src, first, head);
  // When the archive names its layers before it holds them (berth's own archives do), each layer
  // is unpacked while it is read, instead of being read back from the store afterwards.
  const early = new Map<string, { diffId: string; chain: string; parent: string | undefined }>();
  const planFrom = (name: string, info: { digest: string }) => {
    if (name !== 'manifest.json') return;
    try {
      const list = JSON.parse(svc.content.read(info.digest).toString()) as { Config: string; Layers: string[] }[];
      for (const m of list) {
        const cfg = files.get(m.Config);
        if (!cfg) continue;
        const diffIds = parseImageConfig(svc.content.read(cfg.digest), 'config').rootfs?.diff_ids ?? [];
        if (diffIds.length !== m.Layers.length) continue;
        m.Layers.forEach((l, i) => {
          if (!early.has(l)) early.set(l, { diffId: diffIds[i]!, chain: chainId(diffIds.slice(0, i + 1)), parent: i ? chainId(diffIds.slice(0, i)) : undefined });
        });
      }
    } catch {
      early.clear(); // read it again the slow way at the end, with its errors
    }
  };
  const applyWhileReading = async (name: string, stream: Readable): Promise<{ digest: string; size: number }> => {
    const plan = early.get(name)!;
    const named = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
    const toStore = new PassThrough({ highWaterMark: 1 << 20 });
    const toApply = new PassThrough({ highWaterMark: 1 << 20 });
    tee(stream, toStore, toApply);
    const applying = svc.snapshots.hasLayer(plan.chain) || (plan.parent !== undefined && !svc.snapshots.hasLayer(plan.parent))
      ? (toApply.resume(), Promise.resolve(undefined))
      : // A plain tar named by its digest is its own diff ID: the store checks that digest, so the
        // unpacker need not hash it again (a mismatch removes the layer below).
        svc.snapshots.applyLayer(plan.chain, plan.parent, toApply, { expectDiffId: plan.diffId, verified: named?.[1] !== undefined && `sha256:${named[1]}` === plan.diffId });
    const [stored, applied] = await Promise.allSettled([svc.content.write(toStore, named ? { digest: `sha256:${named[1]}` } : undefined), applying]);
    if (stored.status === 'rejected' || applied.status === 'rejected') {
      if (applied.status === 'fulfilled' && applied.value && !svc.images.list().some((r) => r.layers.some((l) => l.chainId === plan.chain))) {
        try {
          svc.snapshots.removeLayer(plan.chain);
        } catch {
          /* in use */
        }
      }
      throw stored.status === 'rejected' ? stored.reason : (applied as PromiseRejectedResult).reason;
    }
    return stored.value;
  };
  const reading = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const name = h.name.replace(/^\.\//, '');
      if (h.type !== 'file') {
        stream.resume();
        stream.on('end', next);
        return;
      }
      const store = early.has(name) ? applyWhileReading(name, stream as unknown as Readable) : svc.content.write(stream);
      store.then(
        (info) => {
          files.set(name, info);
          planFrom(name, info);
          next();
        },
        (e: unknown) => reject(e),
      );
    });
    extract.on('finish', resolve);
    extract.on('error', (e) => reject(invalidArgument(`${where}: ${e.message === 'Unexpected end of data' ? 'unexpected end of the archive (truncated?)' : `invalid archive: ${e.message}`}`)));
  });
  input.on('error', (e: Error) => extract.destroy(invalidArgument(`${where}: ${e.message}`)));
  input.pipe(extract);
  await reading;

  const text = (name: string) => {
    const f = files.get(name);
    return f ? svc.content.read(f.digest) : undefined;
  };
  const loaded: Loaded[] = [];
  const dockerManifest = text('manifest.json');
  if (dockerManifest) {
    let list: { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
    try {
      list = JSON.parse(dockerManifest.toString());
    } catch (e) {
      throw invalidArgument(`${where}: manifest.json: invalid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(list)) throw invalidArgument(`${where}: manifest.json: must be an array`);
    for (const [i, m] of list.entries()) {
      const cfgFile = files.get(m.Config);
      if (!cfgFile) throw invalidArgument(`${where}: manifest.json[${i}].Config: ${JSON.stringify(m.Config)} is not in the archive`);
      const layerFiles = (m.Layers ?? []).map((l, j) => {
        const f = files.get(l);
        if (!f) throw invalidArgument(`${where}: manifest.json[${i}].Layers[${j}]: ${JSON.stringify(l)} is not in the archive`);
        return f;
      });
      const rec = await importImage(svc, cfgFile.digest, layerFiles.map((f) => ({ digest: f.digest, size: f.size, mediaType: undefined })), where);
      for (const t of m.RepoTags ?? []) {
        const ref = parseReference(t).toString();
        svc.images.setRef(ref, rec.id);
        loaded.push({ id: rec.id, ref: familiarName(ref) });
      }
      if (!m.RepoTags?.length) loaded.push({ id: rec.id });
    }
    return loaded;
  }
  const indexBytes = text('index.json');
  if (!indexBytes) throw invalidArgument(`${where}: neither manifest.json (docker-archive) nor index.json (OCI layout) is in the archive`);
  const index = parseIndex(indexBytes, `${where}: index.json`);
  for (const [i, desc] of index.manifests.entries()) {
    const blob = files.get(blobPath(desc.digest));
    if (!blob || blob.digest !== desc.digest) throw invalidArgument(`${where}: index.json: manifests[${i}]: blob ${desc.digest} is ${blob ? 'corrupt: its content does not match its digest' : 'not in the archive'}`);
    if (isIndexType(desc.mediaType)) throw invalidArgument(`${where}: index.json: manifests[${i}]: nested indexes are not supported yet`);
    if (!isManifestType(desc.mediaType)) throw invalidArgument(`${where}: index.json: manifests[${i}]: unknown media type ${JSON.stringify(desc.mediaType)}`);
    const man = parseManifest(svc.content.read(desc.digest), `manifest ${desc.digest}`);
    const layers = man.layers.map((l, j) => {
      const f = files.get(blobPath(l.digest));
      if (!f || f.digest !== l.digest) throw invalidArgument(`${where}: manifest ${desc.digest}: layers[${j}]: blob ${l.digest} is ${f ? 'corrupt' : 'not in the archive'}`);
      return { digest: l.digest, size: l.size, mediaType: l.mediaType };
    });
    const cfg = files.get(blobPath(man.config.digest));
    if (!cfg || cfg.digest !== man.config.digest) throw invalidArgument(`${where}: manifest ${desc.digest}: config ${man.config.digest} is ${cfg ? 'corrupt' : 'not in the archive'}`);
    const rec = await importImage(svc, man.config.digest, layers, where, { digest: desc.digest, mediaType: desc.mediaType });
    const name = desc.annotations?.['io.containerd.image.name'];
    const tag = desc.annotations?.['org.opencontainers.image.ref.name'];
    const refStr = name ?? (tag && !tag.includes('/') && !tag.includes(':') ? undefined : tag);
    if (refStr) {
      const ref = parseReference(refStr).toString();
      svc.images.setRef(ref, rec.id);
      loaded.push({ id: rec.id, ref: familiarName(ref) });
    } else loaded.push({ id: rec.id });
  }
  return loaded;
}

/** Unpacks the layers of a config (in the content store) and records the image. */
async function importImage(
  svc: ImageService,
  configDigest: string,
  blobs: { digest: string; size: number; mediaType: string | undefined }[],
  where: string,
  manifest?: { digest: string; mediaType: string },
): Promise<ImageRecord> {
  const cfg = parseImageConfig(svc.content.read(configDigest), `${where}: config ${configDigest}`);
  const diffIds = cfg.rootfs?.diff_ids ?? [];
  if (diffIds.length !== blobs.length) throw invalidArgument(`${where}: config ${configDigest} lists ${diffIds.length} layers but the manifest has ${blobs.length}`);
  const layers: LayerRecord[] = [];
  let parent: string | undefined;
  for (const [i, b] of blobs.entries()) {
    const chain = chainId(diffIds.slice(0, i + 1));
    if (b.mediaType !== undefined && !isLayerType(b.mediaType)) throw invalidArgument(`${where}: layer ${b.digest}: unknown media type ${JSON.stringify(b.mediaType)}`);
    if (!svc.snapshots.hasLayer(chain)) {
      try {
        // A plain tar blob whose digest is its diff ID was verified as the archive was read.
        const verified = b.digest === diffIds[i];
        await svc.snapshots.applyLayer(chain, parent, createReadStream(svc.content.path(b.digest)), { expectDiffId: diffIds[i], verified });
      } catch (e) {
        if (isBerthError(e)) throw invalidArgument(`${where}: layer ${i} (${b.digest}): ${e.message}`, { cause: e });
        throw e;
      }
    }
    const compression = b.mediaType ? isLayerType(b.mediaType)?.compression : undefined;
    layers.push({
      digest: b.digest,
      mediaType: b.mediaType ?? MediaType.ociLayer,
      size: b.size,
      diffId: diffIds[i]!,
      chainId: chain,
    });
    void compression;
    parent = chain;
  }
  return svc.storeImage({ config: { digest: configDigest }, layers, manifest });
}

/** Copies one stream into two, going at the pace of the slower one. */
function tee(src: Readable, a: PassThrough, b: PassThrough): void {
  let waiting = 0;
  const resume = () => {
    if (--waiting === 0) src.resume();
  };
  src.on('data', (chunk: Buffer) => {
    const okA = a.write(chunk);
    const okB = b.write(chunk);
    if (!okA) (waiting++, a.once('drain', resume));
    if (!okB) (waiting++, b.once('drain', resume));
    if (waiting > 0) src.pause();
  });
  src.on('end', () => {
    a.end();
    b.end();
  });
  src.on('error', (e: Error) => {
    a.destroy(e);
    b.destroy(e);
  });
}

async function peek(src: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = src.read() as Buffer | null;
      if (chunk === null) return;
      src.off('readable', onReadable);
      src.off('end', onEnd);
      src.off('error', reject);
      resolve(chunk);
    };
    const onEnd = () => resolve(Buffer.alloc(0));
    src.on('readable', onReadable);
    src.once('end', onEnd);
    src.once('error', reject);
    void n;
  });
}

function replay(src: Readable, first: Buffer, dest: PassThrough): void {
  if (first.length) dest.write(first);
  src.on('error', (e) => dest.destroy(e));
  src.pipe(dest);
}
