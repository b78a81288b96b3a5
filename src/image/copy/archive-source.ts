/**
 * A tar stream as a source: docker-archive (manifest.json; Docker's, podman's and berth's) or
 * oci-archive (an OCI layout: index.json and blobs/sha256/…), gzip'd or not. The stream is read
 * once, front to back: each member goes to the destination as it streams by (a member named
 * blobs/<algorithm>/<hex> with that digest expected, so a corrupt one is refused before its end).
 * Small JSON members (manifests, configs) are also kept in memory for the metadata. When
 * manifest.json or index.json comes before the layers (berth's archives), later layers are named
 * to the destination as layers of their image, which then unpacks them as they arrive.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { nodeZlib } from '../../lib/builtins.js';
import { invalidArgument } from '../../lib/errors.js';
import { parseImageConfig, parseIndex, parseManifest } from '../../oci/image-spec.js';
import { parseReference } from '../reference.js';
import { blobPath } from './layout-dest.js';
import { imagesFromIndex } from './oci-index.js';
import { peek, replay } from './streams.js';
import type { BlobData, BlobInfo, ImageSource, SourceImage, SourceWriter } from './types.js';

/** Members read whole into memory; the JSON ones among them are kept for the metadata. */
const SMALL = 4 << 20;
/** The archive's own metadata: read by the source, not handed on as blobs. */
const META = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
const LEGACY_META = /^[^/]+\/(VERSION|json)$/;
const NAMED_BLOB = /^blobs\/(sha256|sha512)\/([0-9a-f]{64}|[0-9a-f]{128})$/;

function looksLikeJson(b: Buffer): boolean {
  for (const c of b) {
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b || c === 0x5b; // '{' or '['
  }
  return false;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

export function archiveSource(input: Readable, opts: { what: string }): ImageSource {
  return { what: opts.what, read: (w) => readArchive(input, opts.what, w) };
}

async function readArchive(src: Readable, where: string, w: SourceWriter): Promise<void> {
  const files = new Map<string, BlobInfo>();
  /** Members that are links to others (Docker's archives link a layer.tar two images share). */
  const links = new Map<string, string>();
  const small = new Map<string, Buffer>();
  const meta = new Map<string, Buffer>();
  /** Member name → the diff IDs up to that layer, known before the member is read. */
  const early = new Map<string, readonly string[]>();

  const plan = (name: string) => {
    try {
      if (name === 'manifest.json') {
        for (const m of JSON.parse(meta.get(name)!.toString()) as DockerManifestEntry[]) {
          const cfg = small.get(m.Config);
          if (!cfg) continue;
          planLayers(parseImageConfig(cfg, 'config').rootfs?.diff_ids ?? [], m.Layers);
        }
      } else if (name === 'index.json') {
        for (const desc of parseIndex(meta.get(name)!, 'index.json').manifests) {
          const manBytes = small.get(blobPath(desc.digest));
          if (!manBytes) continue;
          const man = parseManifest(manBytes, 'manifest');
          const cfg = small.get(blobPath(man.config.digest));
          if (!cfg) continue;
          planLayers(parseImageConfig(cfg, 'config').rootfs?.diff_ids ?? [], man.layers.map((l) => blobPath(l.digest)));
        }
      }
    } catch {
      early.clear(); // read the slow way at the end, with its errors
    }
  };
  const planLayers = (diffIds: string[], members: string[]) => {
    if (diffIds.length !== members.length) return;
    members.forEach((m, i) => {
      if (!early.has(m)) early.set(m, diffIds.slice(0, i + 1));
    });
  };

  // tar-stream is loaded only by the commands that read archives.
  const tar = (await import('tar-stream')).default;
  const extract = tar.extract();
  const head = new PassThrough();
  const first = await peek(src);
  const input = first[0] === 0x1f && first[1] === 0x8b ? head.pipe(nodeZlib().createGunzip()) : head;
  replay(src, first, head);

  const member = async (name: string, size: number, stream: AsyncIterable<unknown>): Promise<void> => {
    if (META.has(name) || LEGACY_META.test(name)) {
      meta.set(name, await readAll(stream));
      plan(name);
      return;
    }
    const named = NAMED_BLOB.exec(name);
    const diffIds = early.get(name);
    const hint = { name, size, ...(named ? { digest: `${named[1]}:${named[2]}` } : {}), ...(diffIds ? { diffIds, role: 'layer' as const } : {}) };
    let data: BlobData = stream as Readable;
    if (size <= SMALL && !diffIds) {
      const bytes = await readAll(stream);
      if (looksLikeJson(bytes)) small.set(name, bytes);
      data = bytes;
    }
    files.set(name, await w.blob(data, hint));
  };

  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      input.unpipe(extract);
      extract.destroy();
      // Stop reading the caller's stream (it stays the caller's to close).
      src.unpipe(head);
      head.destroy();
      reject(e);
    };
    extract.on('entry', (h, stream, next) => {
      const name = h.name.replace(/^\.\//, '');
      if ((h.type === 'symlink' || h.type === 'link') && h.linkname) {
        const target = h.type === 'symlink' ? posix.join(posix.dirname(name), h.linkname) : h.linkname.replace(/^\.\//, '');
        links.set(name, posix.normalize(target));
      }
      if (h.type !== 'file') {
        stream.resume();
        stream.on('end', next);
        return;
      }
      member(name, h.size ?? 0, stream).then(() => next(), fail);
    });
    extract.on('finish', resolve);
    extract.on('error', (e: Error) => fail(invalidArgument(`${where}: ${e.message === 'Unexpected end of data' ? 'unexpected end of the archive (truncated?)' : `invalid archive: ${e.message}`}`)));
    input.on('error', (e: Error) => fail(invalidArgument(`${where}: ${e.message}`)));
    input.pipe(extract);
  });

  // A link member stands for the member it names (followed a few links deep, no further).
  for (const [name] of links) {
    let target: string | undefined = name;
    for (let i = 0; i < 8 && target !== undefined && !files.has(target); i++) target = links.get(target);
    const f = target !== undefined ? files.get(target) : undefined;
    if (f) files.set(name, f);
    const b = target !== undefined ? small.get(target) : undefined;
    if (b) small.set(name, b);
  }
  const dockerManifest = meta.get('manifest.json');
  if (dockerManifest) return w.images(dockerImages(dockerManifest, files, small, where));
  const index = meta.get('index.json');
  if (!index) throw invalidArgument(`${where}: neither manifest.json (docker-archive) nor index.json (OCI layout) is in the archive`);
  const images = imagesFromIndex(
    index,
    {
      size: (d) => {
        const f = files.get(blobPath(d));
        return f && f.digest === d ? f.size : undefined;
      },
      bytes: (d) => small.get(blobPath(d)),
    },
    where,
    'the archive',
  );
  return w.images(images);
}

function dockerImages(bytes: Buffer, files: Map<string, BlobInfo>, small: Map<string, Buffer>, where: string): SourceImage[] {
  let list: DockerManifestEntry[];
  try {
    list = JSON.parse(bytes.toString());
  } catch (e) {
    throw invalidArgument(`${where}: manifest.json: invalid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(list)) throw invalidArgument(`${where}: manifest.json: must be an array`);
  return list.map((m, i) => {
    const cfg = files.get(m.Config);
    if (!cfg) throw invalidArgument(`${where}: manifest.json[${i}].Config: ${JSON.stringify(m.Config)} is not in the archive`);
    const cfgBytes = small.get(m.Config);
    if (!cfgBytes) throw invalidArgument(`${where}: manifest.json[${i}].Config: ${JSON.stringify(m.Config)} is too large to read`);
    const layers = (m.Layers ?? []).map((l, j) => {
      const f = files.get(l);
      if (!f) throw invalidArgument(`${where}: manifest.json[${i}].Layers[${j}]: ${JSON.stringify(l)} is not in the archive`);
      return { digest: f.digest, size: f.size };
    });
    return { names: (m.RepoTags ?? []).map((t) => parseReference(t).toString()), config: { digest: cfg.digest, size: cfg.size, bytes: cfgBytes }, layers };
  });
}
