/**
 * `save` and `load`: images as tar archives or OCI layout directories, through the image copy
 * pipeline (image/copy). `save` writes what current Docker writes: an OCI image layout
 * (oci-layout, index.json, blobs/sha256/…) with Docker's manifest.json beside it, so that
 * `docker load`, `podman load` and OCI tools (skopeo's oci-archive:) all read it; with
 * `oci-archive` the manifest.json is left out. `load` reads either, layers gzip'd or not.
 */
import { rmSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { archiveDestination, archiveSource, copyImage, familiarName, layoutDirDestination, parseReference, storeDestination, storeSource, type CopyOptions, type ImageDestination, type ImageRecord } from '../image/index.js';
import type { ImageService } from './images.js';
import { isBerthError, notFound } from '../lib/errors.js';

export interface SaveOptions {
  format: 'docker-archive' | 'oci-archive';
  /** The destination file, so that a failed save removes it. */
  file?: string;
  onEvent?: CopyOptions['onEvent'];
}

/**
 * The images `names` resolve to, each once, with the tags it was named by, as docker save picks
 * them: a repository without a tag stands for all its tags (else it is an id or id prefix), a
 * tag names that image, an id or digest saves the image untagged.
 */
function imagesToSave(svc: ImageService, names: string[]): { rec: ImageRecord; names: string[] }[] {
  const images: { rec: ImageRecord; names: string[] }[] = [];
  const add = (rec: ImageRecord, tags: string[]) => {
    const prev = images.find((i) => i.rec.id === rec.id);
    if (prev) prev.names.push(...tags.filter((t) => !prev.names.includes(t)));
    else images.push({ rec, names: [...tags] });
  };
  for (const n of names) {
    let ref;
    try {
      ref = /^(sha256:)?[0-9a-f]{64}$/.test(n) ? undefined : parseReference(n);
    } catch {
      ref = undefined;
    }
    if (ref && !ref.digest && !/:[^/]*$/.test(n)) {
      // A repository name: every tag of it, by the name's order of tags.
      const tagged = svc.images.refs().filter((r) => !r.ref.includes('@') && parseReference(r.ref).name === ref.name).sort((a, b) => a.ref.localeCompare(b.ref));
      if (tagged.length) {
        for (const t of tagged) add(svc.images.require(t.id), [t.ref]);
        continue;
      }
    }
    if (ref?.tag !== undefined && !ref.digest && /:[^/]*$/.test(n) && !svc.images.getRef(ref.toString())) throw notFound('reference does not exist');
    let rec: ImageRecord;
    try {
      rec = svc.resolve(n);
    } catch (e) {
      // dockerd's image exporter names the image as it was given (no ":latest").
      throw isBerthError(e, 'NotFound') ? notFound(`No such image: ${n}`, { cause: e }) : e;
    }
    add(rec, ref && !ref.digest && ref.tag !== undefined && svc.images.getRef(ref.toString()) === rec.id ? [ref.toString()] : []);
  }
  return images;
}

async function save(svc: ImageService, names: string[], dest: () => ImageDestination, onEvent: CopyOptions['onEvent']): Promise<void> {
  const images = imagesToSave(svc, names);
  await copyImage(storeSource(svc, images, { what: 'save' }), dest(), { onEvent });
}

export async function saveArchive(svc: ImageService, names: string[], dest: Writable, opts: SaveOptions): Promise<void> {
  try {
    await save(svc, names, () => archiveDestination(dest, { format: opts.format, file: opts.file }), opts.onEvent);
  } catch (e) {
    if (opts.file) rmSync(opts.file, { force: true });
    throw e;
  }
}

/** `save --format oci-dir`: the images as an OCI image layout directory. */
export async function saveLayoutDir(svc: ImageService, names: string[], dir: string, opts: { onEvent?: CopyOptions['onEvent'] } = {}): Promise<void> {
  const dest = layoutDirDestination(dir, { what: 'save' });
  try {
    await save(svc, names, () => dest, opts.onEvent);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface Loaded {
  id: string;
  ref?: string;
}

/**
 * Reads an archive: every member is stored in the content store as it streams by (hashed once,
 * blobs verified against their names), layers unpacked as they arrive where the archive names
 * them first, else afterwards from the store. A failed load leaves nothing it brought.
 */
export async function loadArchive(svc: ImageService, src: Readable, opts: { source?: string; onEvent?: CopyOptions['onEvent'] } = {}): Promise<Loaded[]> {
  const copied = await svc.writing(() => copyImage(archiveSource(src, { what: `load ${opts.source ?? 'stdin'}` }), storeDestination(svc), { onEvent: opts.onEvent }));
  return copied.flatMap((c): Loaded[] => (c.names.length ? c.names.map((n) => ({ id: c.id, ref: familiarName(n) })) : [{ id: c.id }]));
}
