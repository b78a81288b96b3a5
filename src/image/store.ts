/**
 * Image metadata: one JSON record per image (keyed by its id, the config digest) and one small
 * file per tag or digest reference. Every write is a whole file written atomically, so several
 * berth processes can work at once and a kill at any instant loses nothing.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { notFound } from '../lib/errors.js';
import { RecordStore } from '../sys/store.js';

export interface LayerRecord {
  /** Digest of the layer blob in the content store (compressed or not, as stored). */
  digest: string;
  mediaType: string;
  /** Size of the blob. */
  size: number;
  /** Digest of the uncompressed tar. */
  diffId: string;
  /** OCI chainID: the key of the unpacked layer in the snapshotter. */
  chainId: string;
}

export interface ImageRecord {
  /** The image id: the digest of its config. */
  id: string;
  /** The manifest blob berth keeps for this image (OCI or Docker schema2). */
  manifestDigest: string;
  manifestMediaType: string;
  configDigest: string;
  layers: LayerRecord[];
  /** Created time from the config, and when berth stored the image. */
  created: string;
  added: string;
  /** Digests of manifests this image was pulled or loaded by (name@digest). */
  repoDigests: string[];
  /** The local image it was made on (commit, build); absent for a pulled, loaded or imported one. */
  parent?: string;
}

const hexOf = (id: string) => id.replace(/^sha256:/, '');

export class ImageStore {
  private readonly imagesDir: string;
  private readonly refsDir: string;
  /** images/HEX.json */
  private readonly records: RecordStore<ImageRecord>;
  /** refs/REF (URI-encoded), holding the image id as text */
  private readonly refFiles: RecordStore<string>;

  constructor(readonly root: string) {
    this.imagesDir = join(root, 'images');
    this.refsDir = join(root, 'refs');
    this.records = new RecordStore<ImageRecord>(this.imagesDir);
    this.refFiles = new RecordStore<string>(this.refsDir, {
      codec: { encode: (id) => id, decode: (text) => text },
      file: (ref) => encodeURIComponent(ref),
      idOf: (entry) => (entry.includes('.tmp-') || entry.startsWith('.') ? undefined : decodeURIComponent(entry)),
    });
  }

  private ensure(): void {
    mkdirSync(this.imagesDir, { recursive: true });
    mkdirSync(this.refsDir, { recursive: true });
  }

  put(rec: ImageRecord): void {
    this.ensure();
    this.records.put(hexOf(rec.id), rec);
  }

  get(id: string): ImageRecord | undefined {
    return this.records.get(hexOf(id));
  }

  has(id: string): boolean {
    return this.records.has(hexOf(id));
  }

  delete(id: string): void {
    this.records.delete(hexOf(id));
  }

  list(): ImageRecord[] {
    return this.records.list();
  }

  /** Points a full reference (`docker.io/library/busybox:latest`) at an image id. */
  setRef(ref: string, id: string): void {
    this.ensure();
    this.refFiles.put(ref, id);
  }

  getRef(ref: string): string | undefined {
    return this.refFiles.get(ref);
  }

  deleteRef(ref: string): boolean {
    if (!this.refFiles.has(ref)) return false;
    this.refFiles.delete(ref);
    return true;
  }

  /** All references, with the image each points at. */
  refs(): { ref: string; id: string }[] {
    const out: { ref: string; id: string }[] = [];
    for (const ref of this.refFiles.ids()) {
      const id = this.getRef(ref);
      if (id) out.push({ ref, id });
    }
    return out;
  }

  refsOf(id: string): string[] {
    return this.refs()
      .filter((r) => r.id === id)
      .map((r) => r.ref);
  }

  require(id: string): ImageRecord {
    const r = this.get(id);
    if (!r) throw notFound(`image ${id}: not found`);
    return r;
  }
}
