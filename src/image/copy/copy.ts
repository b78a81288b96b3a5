/**
 * copyImage: one source into one destination. It knows no transport: it verifies each blob's
 * digest and size while the destination reads it, skips blobs the destination has, tells the
 * destination which layer a blob is (when the source named the images first), checks each image
 * (config against layers, media types), writes an OCI manifest for an image that came without
 * one, reports progress as events, and on any failure has the destination undo what it added.
 */
import { Readable } from 'node:stream';
import { digestAlgorithm, Digester, digestOf, parseDigest } from '../../lib/digest.js';
import { internal, invalidArgument } from '../../lib/errors.js';
import { isLayerType, MediaType, parseImageConfig } from '../../oci/image-spec.js';
import { ociManifestBytes } from '../manifest.js';
import type { BlobData, BlobHint, BlobInfo, BlobRole, CopiedImage, CopyEvent, CopyOptions, ImageDestination, ImageSource, ResolvedImage, SourceImage, SourceWriter } from './types.js';

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw invalidArgument(`blob: the source yielded ${chunk === null ? 'null' : typeof chunk}, not bytes`);
}

const mismatch = (where: string, want: string, got: string, size: number) => invalidArgument(`${where}: blob ${want}: content does not match its digest: got ${got} (${size} bytes)`);
const sizeMismatch = (where: string, label: string, size: number, want: number) => invalidArgument(`${where}: blob ${label}: size ${size} does not match the expected ${want}`);

/** The bytes of `src`, hashed and counted as they pass; throws before the end when they are not what `hint` says. */
async function* verifying(opened: AsyncIterable<unknown> | Promise<AsyncIterable<unknown>>, hint: BlobHint, where: string, progress: (bytes: number) => void): AsyncGenerator<Buffer> {
  const digester = hint.digest ? new Digester(digestAlgorithm(hint.digest)) : undefined;
  const label = hint.digest ?? hint.name ?? 'blob';
  let bytes = 0;
  const src = await opened;
  for await (const chunk of src) {
    const buf = toBuffer(chunk);
    bytes += buf.length;
    if (hint.size !== undefined && bytes > hint.size) throw invalidArgument(`${where}: blob ${label}: size exceeds the expected ${hint.size}: got at least ${bytes} bytes`);
    digester?.update(buf);
    progress(bytes);
    yield buf;
  }
  if (hint.size !== undefined && bytes !== hint.size) throw sizeMismatch(where, label, bytes, hint.size);
  if (digester && hint.digest) {
    const got = digester.digest();
    if (got !== hint.digest) throw mismatch(where, hint.digest, got, bytes);
  }
}

async function drain(data: BlobData): Promise<number> {
  if (Buffer.isBuffer(data)) return data.length;
  if (!(Symbol.asyncIterator in data)) return 0;
  let n = 0;
  for await (const chunk of data as AsyncIterable<Buffer>) n += chunk.length;
  return n;
}

class CopyRun implements SourceWriter {
  private readonly where: string;
  /** Blobs the destination holds now (this copy's or its own). */
  private readonly delivered = new Map<string, number>();
  /** Layer digest → diff IDs up to it, from the images named so far. */
  private readonly plans = new Map<string, readonly string[]>();
  resolved: ResolvedImage[] | undefined;

  constructor(
    src: ImageSource,
    private readonly dest: ImageDestination,
    private readonly opts: CopyOptions,
  ) {
    this.where = src.what ?? 'copy';
  }

  private emit(e: CopyEvent): void {
    this.opts.onEvent?.(e);
  }

  async blob(data: BlobData, hint: BlobHint = {}): Promise<BlobInfo> {
    const h: BlobHint = { ...hint };
    if (h.digest !== undefined) parseDigest(h.digest, `${this.where}: blob digest`);
    if (h.digest !== undefined && h.diffIds === undefined && this.plans.has(h.digest)) h.diffIds = this.plans.get(h.digest);
    if (h.role === undefined && h.diffIds !== undefined) h.role = 'layer';
    const role: BlobRole = h.role ?? 'other';
    if (h.digest !== undefined && (this.delivered.has(h.digest) || (await this.dest.has(h.digest)))) {
      const n = await drain(data);
      const size = h.size ?? this.delivered.get(h.digest) ?? n;
      this.delivered.set(h.digest, size);
      this.emit({ kind: 'blob-skipped', digest: h.digest, role, reason: 'exists' });
      return { digest: h.digest, size };
    }
    this.emit({ kind: 'blob-start', digest: h.digest, role, size: h.size });
    let info: BlobInfo;
    if (Buffer.isBuffer(data)) {
      const digest = digestOf(data, h.digest ? digestAlgorithm(h.digest) : 'sha256');
      if (h.size !== undefined && data.length !== h.size) throw sizeMismatch(this.where, h.digest ?? h.name ?? 'blob', data.length, h.size);
      if (h.digest !== undefined && digest !== h.digest) throw mismatch(this.where, h.digest, digest, data.length);
      const bytes = data;
      info = await this.dest.putBlob({ hint: { ...h, digest, size: bytes.length }, bytes, stream: () => Readable.from([bytes]) });
    } else {
      // A stream is async-iterable (fs.ReadStream has an open() method of its own: not an opener).
      const opened = Symbol.asyncIterator in data ? undefined : (data as Exclude<BlobData, Buffer | Readable>);
      let used = false;
      const stream = (): Readable => {
        if (used) throw internal(`${this.where}: blob ${h.digest ?? h.name ?? ''}: read twice`);
        used = true;
        const raw = (opened ? opened.open() : data) as AsyncIterable<unknown> | Promise<AsyncIterable<unknown>>;
        const progress = (bytes: number) => this.emit({ kind: 'blob-progress', digest: h.digest, role, bytes, size: h.size });
        return Readable.from(verifying(raw, h, this.where, progress), { objectMode: false, highWaterMark: 1 << 20 });
      };
      info = await this.dest.putBlob({ hint: h, ...(opened?.file ? { file: opened.file } : {}), stream });
    }
    if (h.digest !== undefined && info.digest !== h.digest) throw internal(`${this.where}: blob ${h.digest}: the destination stored it as ${info.digest}`);
    this.delivered.set(info.digest, info.size);
    this.emit({ kind: 'blob-done', digest: info.digest, role, size: info.size });
    return info;
  }

  async images(list: SourceImage[]): Promise<void> {
    if (this.resolved) throw internal(`${this.where}: the source named its images twice`);
    const out: ResolvedImage[] = [];
    for (const img of list) {
      const cfgWhere = `${this.where}: config ${img.config.digest}`;
      const actual = digestOf(img.config.bytes, digestAlgorithm(img.config.digest));
      if (actual !== img.config.digest) throw mismatch(this.where, img.config.digest, actual, img.config.bytes.length);
      const parsed = parseImageConfig(img.config.bytes, cfgWhere);
      const diffIds = parsed.rootfs?.diff_ids ?? [];
      if (diffIds.length !== img.layers.length) throw invalidArgument(`${cfgWhere} lists ${diffIds.length} layers but the manifest has ${img.layers.length}`);
      for (const [i, l] of img.layers.entries()) {
        if (l.mediaType !== undefined && !isLayerType(l.mediaType)) throw invalidArgument(`${this.where}: layer ${l.digest}: unknown media type ${JSON.stringify(l.mediaType)}`);
        if (!this.plans.has(l.digest)) this.plans.set(l.digest, diffIds.slice(0, i + 1));
      }
      let manifest = img.manifest;
      if (!manifest) {
        const info = await this.blob(ociManifestBytes(img.config, img.layers), { role: 'manifest', mediaType: MediaType.ociManifest });
        manifest = { digest: info.digest, mediaType: MediaType.ociManifest, size: info.size };
      }
      out.push({
        names: [...img.names],
        manifest,
        manifestWritten: !img.manifest,
        config: { digest: img.config.digest, size: img.config.bytes.length, mediaType: img.config.mediaType ?? MediaType.ociConfig, bytes: img.config.bytes, parsed },
        layers: img.layers.map((l, i) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, diffId: diffIds[i]! })),
        ...(img.repoDigests?.length ? { repoDigests: [...img.repoDigests] } : {}),
      });
    }
    this.resolved = out;
    await this.dest.announce?.(out);
  }

  /** Every blob of every image is in the destination. */
  async checkComplete(images: readonly ResolvedImage[]): Promise<void> {
    for (const img of images) {
      for (const d of [img.config.digest, img.manifest.digest, ...img.layers.map((l) => l.digest)]) {
        if (!this.delivered.has(d) && !(await this.dest.has(d))) throw invalidArgument(`${this.where}: blob ${d} of image ${img.config.digest} is not in the source`);
      }
    }
  }
}

/** Copies the images `src` holds into `dest`; resolves with what the destination recorded. */
export async function copyImage(src: ImageSource, dest: ImageDestination, opts: CopyOptions = {}): Promise<CopiedImage[]> {
  const run = new CopyRun(src, dest, opts);
  try {
    await src.read(run);
    const images = run.resolved;
    if (!images) throw internal(`${src.what ?? 'copy'}: the source named no images`);
    await run.checkComplete(images);
    const out = await dest.commit(images, src.what);
    for (const c of out) opts.onEvent?.({ kind: 'image', id: c.id, names: c.names });
    return out;
  } catch (e) {
    await dest.abort(e).catch(() => undefined);
    throw e;
  }
}
