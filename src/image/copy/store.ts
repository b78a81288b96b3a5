/**
 * The local store as a transport. As a source it hands over, per image, config and manifest,
 * then names the images, then the layers (so an archive gets its index before the layers). As a
 * destination it stores blobs in the content store; a layer whose image was named first is
 * unpacked while it streams in (one read, tee'd into the store and the unpacker); the rest are
 * unpacked at commit from the store. A failed copy leaves nothing it added: no blob no image
 * uses, no layer, no image record, no tag.
 */
import { PassThrough } from 'node:stream';
import { invalidArgument, isBerthError } from '../../lib/errors.js';
import { MediaType, parseManifest } from '../../oci/image-spec.js';
import { chainId } from '../../snapshot/index.js';
import { blobInUse, layerInUse, recordImage, type LocalStore } from '../local.js';
import { parseReference } from '../reference.js';
import type { ImageRecord, LayerRecord } from '../store.js';
import { tee } from './streams.js';
import type { BlobInfo, CopiedImage, ImageDestination, ImageSource, IncomingBlob, ResolvedImage, SourceImage } from './types.js';

/** Images of the store, each with the references to name it by in the destination. */
export function storeSource(store: LocalStore, images: readonly { rec: ImageRecord; names: string[] }[], opts: { what?: string } = {}): ImageSource {
  const what = opts.what ?? 'save';
  return {
    what: opts.what,
    async read(w) {
      const list: SourceImage[] = [];
      for (const { rec, names } of images) {
        const manInfo = store.content.info(rec.manifestDigest);
        if (!manInfo) throw invalidArgument(`${what}: manifest ${rec.manifestDigest} of image ${rec.id} is missing from the store`);
        const bytesOf = (d: string) => {
          if (!store.content.has(d)) throw invalidArgument(`${what}: blob ${d} of image ${rec.id} is missing from the store`);
          return store.content.read(d);
        };
        const cfg = bytesOf(rec.configDigest);
        const man = bytesOf(rec.manifestDigest);
        let cfgType: string = MediaType.ociConfig;
        try {
          cfgType = parseManifest(man, `manifest ${rec.manifestDigest}`).config.mediaType;
        } catch {
          /* the manifest is only carried */
        }
        await w.blob(cfg, { digest: rec.configDigest, size: cfg.length, role: 'config', mediaType: cfgType });
        await w.blob(man, { digest: rec.manifestDigest, size: man.length, role: 'manifest', mediaType: rec.manifestMediaType });
        list.push({
          names,
          manifest: { digest: rec.manifestDigest, mediaType: rec.manifestMediaType, size: man.length },
          config: { digest: rec.configDigest, size: cfg.length, bytes: cfg, mediaType: cfgType },
          layers: rec.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })),
        });
      }
      await w.images(list);
      for (const { rec } of images) {
        for (const l of rec.layers) {
          const info = store.content.info(l.digest);
          if (!info) throw invalidArgument(`${what}: blob ${l.digest} of image ${rec.id} is missing from the store`);
          await w.blob({ open: () => store.content.createReadStream(l.digest), file: store.content.path(l.digest) }, { digest: l.digest, size: info.size, role: 'layer', mediaType: l.mediaType });
        }
      }
    },
  };
}

interface Plan {
  diffId: string;
  chain: string;
  parent: string | undefined;
}

function planOf(diffIds: readonly string[]): Plan {
  return { diffId: diffIds[diffIds.length - 1]!, chain: chainId(diffIds), parent: diffIds.length > 1 ? chainId(diffIds.slice(0, -1)) : undefined };
}

export interface StoreDestinationOptions {
  /** Prefix apply errors with the source's name ("load x.tar: layer 0 (sha256:…): …"; default true). */
  layerErrorContext?: boolean;
}

export function storeDestination(store: LocalStore, opts: StoreDestinationOptions = {}): ImageDestination {
  const before = new Set(store.content.list().map((b) => b.digest));
  const added = new Set<string>();
  const layersMade: string[] = [];
  const recordsMade: string[] = [];
  const refsSet: { ref: string; prev: string | undefined }[] = [];
  /** Layers being unpacked now (chain → settled when done), so that one fetched alongside its parent follows it. */
  const unpacking = new Map<string, Promise<unknown>>();

  /** Stores a layer blob and unpacks it from the same read. */
  const storeAndApply = async (b: IncomingBlob, plan: Plan): Promise<BlobInfo> => {
    const toStore = new PassThrough({ highWaterMark: 1 << 20 });
    const toApply = new PassThrough({ highWaterMark: 1 << 20 });
    const src = b.stream();
    // Each half's reader sees an error itself; one that stopped reading must not make it uncaught.
    for (const half of [toStore, toApply]) half.on('error', () => undefined);
    tee(src, toStore, toApply);
    // A plain tar whose digest is its diff ID was verified by the copy: the unpacker need not hash it again.
    const applying = store.snapshots.applyLayer(plan.chain, plan.parent, toApply, { expectDiffId: plan.diffId, verified: b.hint.digest === plan.diffId });
    // An unpacker that gave up reads no more: stop the store's half too, rather than wait on it.
    applying.catch((e: Error) => {
      src.destroy(e);
      toStore.destroy(e);
    });
    const [stored, applied] = await Promise.allSettled([store.content.write(toStore), applying]);
    if (applied.status === 'fulfilled') layersMade.push(plan.chain);
    if (stored.status === 'fulfilled') added.add(stored.value.digest);
    if (stored.status === 'rejected') throw stored.reason;
    if (applied.status === 'rejected') throw applied.reason;
    return stored.value;
  };

  return {
    has: (d) => store.content.has(d),

    async putBlob(b) {
      const h = b.hint;
      const plan = h.role === 'layer' && h.diffIds?.length ? planOf(h.diffIds) : undefined;
      if (plan && !store.snapshots.hasLayer(plan.chain) && !unpacking.has(plan.chain) && (plan.parent === undefined || store.snapshots.hasLayer(plan.parent))) {
        const p = storeAndApply(b, plan);
        unpacking.set(plan.chain, p.then(
          () => unpacking.delete(plan.chain),
          () => unpacking.delete(plan.chain),
        ));
        return p;
      }
      const info = b.bytes ? store.content.writeSync(b.bytes) : await store.content.write(b.stream());
      added.add(info.digest);
      // Fetched alongside its parent (concurrent pulls): unpacked from the store once the parent is.
      if (plan && !store.snapshots.hasLayer(plan.chain) && !unpacking.has(plan.chain) && (plan.parent === undefined || unpacking.has(plan.parent) || store.snapshots.hasLayer(plan.parent))) {
        const parentDone = (plan.parent !== undefined ? unpacking.get(plan.parent) : undefined) ?? Promise.resolve();
        const p = parentDone.then(async () => {
          if (store.snapshots.hasLayer(plan.chain) || (plan.parent !== undefined && !store.snapshots.hasLayer(plan.parent))) return; // left to commit
          await store.snapshots.applyLayer(plan.chain, plan.parent, store.content.createReadStream(info.digest), { expectDiffId: plan.diffId, verified: info.digest === plan.diffId });
          layersMade.push(plan.chain);
        });
        const settled = p.then(
          () => unpacking.delete(plan.chain),
          () => unpacking.delete(plan.chain),
        );
        unpacking.set(plan.chain, settled);
        await p;
      }
      return info;
    },

    async commit(images: readonly ResolvedImage[], what: string | undefined): Promise<CopiedImage[]> {
      while (unpacking.size) await Promise.all([...unpacking.values()]);
      const out: CopiedImage[] = [];
      for (const img of images) {
        const layers: LayerRecord[] = [];
        let parent: string | undefined;
        for (const [i, l] of img.layers.entries()) {
          const chain = chainId(img.layers.slice(0, i + 1).map((x) => x.diffId));
          if (!store.snapshots.hasLayer(chain)) {
            try {
              // A plain tar blob whose digest is its diff ID was verified as it was stored.
              await store.snapshots.applyLayer(chain, parent, store.content.createReadStream(l.digest), { expectDiffId: l.diffId, verified: l.digest === l.diffId });
              layersMade.push(chain);
            } catch (e) {
              if (what !== undefined && opts.layerErrorContext !== false && isBerthError(e)) throw invalidArgument(`${what}: layer ${i} (${l.digest}): ${e.message}`, { cause: e });
              throw e;
            }
          }
          layers.push({ digest: l.digest, mediaType: l.mediaType ?? MediaType.ociLayer, size: l.size, diffId: l.diffId, chainId: chain });
          parent = chain;
        }
        const existed = store.images.has(img.config.digest);
        const rec = recordImage(store, { config: { digest: img.config.digest }, layers, repoDigests: img.repoDigests, manifest: img.manifestWritten ? undefined : { digest: img.manifest.digest, mediaType: img.manifest.mediaType } });
        if (!existed) recordsMade.push(rec.id);
        const names: string[] = [];
        for (const n of img.names) {
          const ref = parseReference(n).toString();
          refsSet.push({ ref, prev: store.images.getRef(ref) });
          store.images.setRef(ref, rec.id);
          names.push(ref);
        }
        out.push({ id: rec.id, manifestDigest: rec.manifestDigest, names });
      }
      return out;
    },

    async abort() {
      for (const { ref, prev } of refsSet.reverse()) {
        if (prev === undefined) store.images.deleteRef(ref);
        else store.images.setRef(ref, prev);
      }
      for (const id of recordsMade) store.images.delete(id);
      for (const d of added) if (!before.has(d) && !blobInUse(store, d)) store.content.delete(d);
      for (const chain of layersMade.reverse()) {
        if (layerInUse(store, chain) || !store.snapshots.hasLayer(chain)) continue;
        try {
          store.snapshots.removeLayer(chain);
        } catch {
          /* another layer or a snapshot stands on it */
        }
      }
    },
  };
}
