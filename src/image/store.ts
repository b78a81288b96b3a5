/**
 * Image metadata: one JSON record per image (keyed by its id, the config digest) and one small
 * file per tag or digest reference. Every write is a whole file written atomically, so several
 * berth processes can work at once and a kill at any instant loses nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, notFound } from '../lib/errors.js';
import { writeFileAtomic } from '../sys/fs.js';

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
}

const hexOf = (id: string) => id.replace(/^sha256:/, '');

export class ImageStore {
  private readonly imagesDir: string;
  private readonly refsDir: string;

  constructor(readonly root: string) {
    this.imagesDir = join(root, 'images');
    this.refsDir = join(root, 'refs');
  }

  private ensure(): void {
    mkdirSync(this.imagesDir, { recursive: true });
    mkdirSync(this.refsDir, { recursive: true });
  }

  put(rec: ImageRecord): void {
    this.ensure();
    writeFileAtomic(join(this.imagesDir, hexOf(rec.id) + '.json'), JSON.stringify(rec));
  }

  get(id: string): ImageRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.imagesDir, hexOf(id) + '.json'), 'utf8')) as ImageRecord;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  has(id: string): boolean {
    return existsSync(join(this.imagesDir, hexOf(id) + '.json'));
  }

  delete(id: string): void {
    rmSync(join(this.imagesDir, hexOf(id) + '.json'), { force: true });
  }

  list(): ImageRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.imagesDir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
    const out: ImageRecord[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const r = this.get('sha256:' + n.slice(0, -5));
      if (r) out.push(r);
    }
    return out;
  }

  /** Points a full reference (`docker.io/library/busybox:latest`) at an image id. */
  setRef(ref: string, id: string): void {
    this.ensure();
    writeFileAtomic(join(this.refsDir, encodeURIComponent(ref)), id);
  }

  getRef(ref: string): string | undefined {
    try {
      return readFileSync(join(this.refsDir, encodeURIComponent(ref)), 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  deleteRef(ref: string): boolean {
    const p = join(this.refsDir, encodeURIComponent(ref));
    if (!existsSync(p)) return false;
    rmSync(p, { force: true });
    return true;
  }

  /** All references, with the image each points at. */
  refs(): { ref: string; id: string }[] {
    let names: string[];
    try {
      names = readdirSync(this.refsDir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
    const out: { ref: string; id: string }[] = [];
    for (const n of names) {
      if (n.includes('.tmp-')) continue;
      const ref = decodeURIComponent(n);
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
