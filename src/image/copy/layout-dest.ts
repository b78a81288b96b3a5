/**
 * Destinations that write an OCI image layout (oci-layout, index.json, blobs/sha256/…): as a tar
 * stream (oci-archive; docker-archive adds Docker's manifest.json beside it, so that `docker load`,
 * `podman load` and OCI tools all read it) or as a directory. Entries go out in the order the
 * blobs come; index.json (and manifest.json) as soon as the source names its images, which the
 * store does before the layers, so a reader knows what each layer is when it reaches it.
 */
import { copyFileSync, createReadStream, createWriteStream, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from '../../lib/builtins.js';
import { Digester, digestOf } from '../../lib/digest.js';
import { invalidArgument } from '../../lib/errors.js';
import { MediaType } from '../../oci/image-spec.js';
import { familiarName, parseReference } from '../reference.js';
import type { BlobInfo, CopiedImage, ImageDestination, IncomingBlob, ResolvedImage } from './types.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

const hex = (d: string) => d.slice(d.indexOf(':') + 1);
const algo = (d: string) => d.slice(0, d.indexOf(':'));
export const blobPath = (d: string) => `blobs/${algo(d)}/${hex(d)}`;

/** Where the layout goes: a tar stream or a directory. */
interface Sink {
  entry(name: string, data: Buffer): Promise<void>;
  /** A blob of known digest and size: from a stream, or from a local file (`own`: a spool file the sink may take). */
  blob(name: string, size: number, from: { stream: () => Readable } | { file: string; own: boolean }): Promise<void>;
  /** A directory for spooling blobs whose digest or size is not known before they are read. */
  spoolDir(): string;
  finish(): Promise<void>;
  abort(e: unknown): Promise<void>;
}

async function tarSink(dest: Writable, file: string | undefined): Promise<Sink> {
  // tar-stream is loaded only by the commands that write archives.
  const tar = (await import('tar-stream')).default;
  const pack = tar.pack();
  const done = pipeline(pack, dest);
  done.catch(() => undefined);
  return {
    entry: (name, data) => new Promise<void>((res, rej) => pack.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? rej(e) : res()))),
    blob: (name, size, from) =>
      new Promise<void>((res, rej) => {
        const e = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (err) => (err ? rej(err) : res()));
        e.on('error', () => undefined); // reported through the callback
        const src = 'stream' in from ? from.stream() : createReadStream(from.file);
        src.on('error', (err: Error) => {
          rej(err);
          e.destroy(err);
        });
        src.pipe(e);
      }),
    spoolDir: () => tmpdir(),
    finish: async () => {
      pack.finalize();
      await done;
    },
    abort: async (e) => {
      pack.destroy(e instanceof Error ? e : new Error(String(e)));
      await done.catch(() => undefined);
      if (file) rmSync(file, { force: true });
    },
  };
}

function dirSink(dir: string): Sink {
  let made = false;
  const ensure = () => {
    if (!made) mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    made = true;
  };
  return {
    entry: async (name, data) => {
      ensure();
      writeFileSync(join(dir, name), data);
    },
    blob: async (name, _size, from) => {
      ensure();
      const target = join(dir, name);
      mkdirSync(join(target, '..'), { recursive: true });
      if ('file' in from) {
        if (from.own) return renameSync(from.file, target);
        try {
          linkSync(from.file, target); // same file system: no copy
        } catch {
          copyFileSync(from.file, target);
        }
        return;
      }
      // Under a temporary name until it is whole and verified.
      const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await pipeline(from.stream(), createWriteStream(tmp, { mode: 0o644 }));
        renameSync(tmp, target);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    },
    spoolDir: () => {
      ensure();
      return join(dir, 'blobs');
    },
    finish: async () => {
      ensure();
    },
    abort: async () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads a stream into a temporary file under `dir`, hashing it. */
async function spool(b: IncomingBlob, dir: string): Promise<BlobInfo & { file: string }> {
  const file = join(dir, `.spool-${process.pid}-${randomBytes(6).toString('hex')}`);
  const digester = new Digester();
  try {
    const out = createWriteStream(file, { mode: 0o644 });
    await pipeline(
      b.stream(),
      async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          digester.update(c);
          yield c;
        }
      },
      out,
    );
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  }
  return { digest: digester.digest(), size: digester.size, file };
}

function layoutDestination(sinkP: Sink | Promise<Sink>, format: ArchiveFormat): ImageDestination {
  let sink: Sink;
  const written = new Set<string>();
  let started = false;
  let indexed = false;
  const start = async () => {
    sink ??= await sinkP;
    if (started) return;
    started = true;
    await sink.entry('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  };
  const writeIndex = async (images: readonly ResolvedImage[]) => {
    await start();
    indexed = true;
    const manifests: object[] = [];
    const docker: object[] = [];
    for (const img of images) {
      const refs = img.names.length ? img.names : [undefined];
      for (const t of refs) {
        const annotations: Record<string, string> = {};
        if (t) {
          annotations['io.containerd.image.name'] = t;
          annotations['org.opencontainers.image.ref.name'] = parseReference(t).tag ?? 'latest';
        }
        manifests.push({ mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.size, ...(t ? { annotations } : {}) });
      }
      docker.push({ Config: blobPath(img.config.digest), RepoTags: img.names.map(familiarName), Layers: img.layers.map((l) => blobPath(l.digest)) });
    }
    await sink.entry('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })));
    if (format === 'docker-archive') await sink.entry('manifest.json', Buffer.from(JSON.stringify(docker)));
  };
  return {
    has: (d) => written.has(d),
    async putBlob(b) {
      await start();
      let info: BlobInfo;
      if (b.hint.digest !== undefined && b.hint.size !== undefined) {
        info = { digest: b.hint.digest, size: b.hint.size };
        await sink.blob(blobPath(info.digest), info.size, b.file ? { file: b.file, own: false } : { stream: () => b.stream() });
      } else if (b.bytes) {
        info = { digest: b.hint.digest ?? digestOf(b.bytes), size: b.bytes.length };
        const bytes = b.bytes;
        await sink.entry(blobPath(info.digest), bytes);
      } else {
        const s = await spool(b, sink.spoolDir());
        info = { digest: s.digest, size: s.size };
        try {
          if (written.has(info.digest)) return info;
          await sink.blob(blobPath(info.digest), info.size, { file: s.file, own: true });
        } finally {
          rmSync(s.file, { force: true });
        }
      }
      written.add(info.digest);
      return info;
    },
    async announce(images) {
      await writeIndex(images);
    },
    async commit(images) {
      await start();
      if (!indexed) await writeIndex(images);
      await sink.finish();
      return images.map((img): CopiedImage => ({ id: img.config.digest, manifestDigest: img.manifest.digest, names: [...img.names] }));
    },
    abort: async (e) => (sink ?? (await sinkP)).abort(e),
  };
}

/** A tar stream of the images' OCI layout (with manifest.json for docker-archive); `file`, when given, is removed on failure. */
export function archiveDestination(dest: Writable, opts: { format: ArchiveFormat; file?: string }): ImageDestination {
  return layoutDestination(tarSink(dest, opts.file), opts.format);
}

/** An OCI image layout directory, which must be absent or empty; removed again on failure. */
export function layoutDirDestination(dir: string, opts: { what?: string } = {}): ImageDestination {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw invalidArgument(`${opts.what ?? 'save'}: ${JSON.stringify(dir)} exists and is not empty`);
  return layoutDestination(dirSink(dir), 'oci-archive');
}
