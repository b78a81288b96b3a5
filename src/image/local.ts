/**
 * The local image store as one thing: the content store (blobs), the image records and tags,
 * and the snapshotter (unpacked layers). Recording an image and adding a layer live here, so
 * that the copy pipeline's store transport and the engine's own image use cases (commit, the
 * starter image, builds) write images the same way.
 */
import type { Readable } from 'node:stream';
import type { ContentStore } from '../content/index.js';
import { notFound } from '../lib/errors.js';
import { MediaType, parseImageConfig, type ImageConfig } from '../oci/image-spec.js';
import { chainId, type Snapshotter } from '../snapshot/index.js';
import { ociManifestBytes } from './manifest.js';
import { parseReference } from './reference.js';
import type { ImageRecord, ImageStore, LayerRecord } from './store.js';

export interface LocalStore {
  readonly content: ContentStore;
  readonly images: ImageStore;
  readonly snapshots: Snapshotter;
}

export interface RecordImageOptions {
  /** The config: an object to store, or the digest of a config blob stored as it came (so that the image id is kept). */
  config: ImageConfig | { digest: string };
  layers: LayerRecord[];
  /** A reference to tag it with. */
  ref?: string;
  repoDigests?: string[];
  /** Its manifest blob (stored); absent: a new OCI manifest is written. */
  manifest?: { digest: string; mediaType: string };
  /** The image it was made on locally (commit, build): its parent, as dockerd records it. */
  parent?: string;
}

function blobInfo(content: ContentStore, digest: string): { digest: string; size: number } {
  const info = content.info(digest);
  if (!info) throw notFound(`blob ${digest}: not found`);
  return info;
}

/**
 * Records an image made of `layers` (blobs in the content store, unpacked in the snapshotter)
 * and a config, with its manifest (given, or a new OCI manifest); tags it with `ref`.
 */
export function recordImage(store: Pick<LocalStore, 'content' | 'images'>, opts: RecordImageOptions): ImageRecord {
  const { layers } = opts;
  const byDigest = 'digest' in opts.config && typeof opts.config.digest === 'string';
  const cfgInfo = byDigest ? blobInfo(store.content, (opts.config as { digest: string }).digest) : store.content.writeSync(Buffer.from(JSON.stringify(opts.config)));
  const manifest = opts.manifest ?? { digest: store.content.writeSync(ociManifestBytes(cfgInfo, layers)).digest, mediaType: MediaType.ociManifest };
  const created = byDigest ? parseImageConfig(store.content.read(cfgInfo.digest), `config ${cfgInfo.digest}`).created : (opts.config as ImageConfig).created;
  const rec: ImageRecord = {
    id: cfgInfo.digest,
    manifestDigest: manifest.digest,
    manifestMediaType: manifest.mediaType,
    configDigest: cfgInfo.digest,
    layers,
    created: created ?? new Date().toISOString(),
    added: new Date().toISOString(),
    repoDigests: opts.repoDigests ?? [],
    ...(opts.parent ? { parent: opts.parent } : {}),
  };
  const prev = store.images.get(rec.id);
  if (prev) {
    rec.repoDigests = [...new Set([...prev.repoDigests, ...rec.repoDigests])];
    if (prev.parent && !rec.parent) rec.parent = prev.parent;
    // Keep the manifest it came with first (its digest is what save and push give out).
    if (!opts.manifest) {
      rec.manifestDigest = prev.manifestDigest;
      rec.manifestMediaType = prev.manifestMediaType;
    }
  }
  store.images.put(rec);
  if (opts.ref) store.images.setRef(parseReference(opts.ref).toString(), rec.id);
  return rec;
}

/** Whether any image record uses the blob or the layer. */
export function blobInUse(store: Pick<LocalStore, 'images'>, digest: string): boolean {
  return store.images.list().some((r) => r.manifestDigest === digest || r.configDigest === digest || r.layers.some((l) => l.digest === digest));
}

export function layerInUse(store: Pick<LocalStore, 'images'>, chain: string): boolean {
  return store.images.list().some((r) => r.layers.some((l) => l.chainId === chain));
}

/** Stores one uncompressed layer tar on top of `parent` layers: blob, then unpacked layer. */
export async function storeLayer(store: LocalStore, src: Readable | AsyncIterable<unknown>, parentChain: string | undefined, parentDiffIds: string[]): Promise<LayerRecord> {
  const blob = await store.content.write(src);
  const diffId = blob.digest;
  const chain = chainId([...parentDiffIds, diffId]);
  if (!store.snapshots.hasLayer(chain)) {
    try {
      await store.snapshots.applyLayer(chain, parentChain, store.content.createReadStream(diffId), { expectDiffId: diffId, verified: true });
    } catch (e) {
      // Nothing half-stored: the blob goes too, unless an image already had it.
      if (!store.images.list().some((r) => r.layers.some((l) => l.digest === blob.digest))) store.content.delete(blob.digest);
      throw e;
    }
  }
  return { digest: blob.digest, mediaType: MediaType.ociLayer, size: blob.size, diffId, chainId: chain };
}
