/**
 * The registry as a transport of the image-copy pipeline (image/copy/types.ts).
 *
 * Source (pull): `resolveRemote` finds the image (mirrors first, then the registry; an index →
 * the manifest for the platform asked, else the host's), `registrySource` hands the config and
 * the manifest to the pipeline, names the image (so the store unpacks each layer as it arrives),
 * then fetches the layers N at a time (3 by default); a layer the destination has is never
 * opened; a connection broken mid-layer is resumed with Range from where it stopped.
 *
 * Destination (push): `registryDestination` answers `has` with a HEAD of the blob (and mounts it
 * from another repository of the same registry that has it), uploads the rest (one streamed PUT,
 * or PATCH chunks), and puts the manifest last, under the tag.
 */
import { Readable } from 'node:stream';
import { digestOf, Digester } from '../lib/digest.js';
import { invalidArgument, isBerthError, notFound, unavailable } from '../lib/errors.js';
import { defaultPlatform, documentKind, formatPlatform, isLayerType, MediaType, normalizePlatform, parseImageConfig, parseIndex, parseManifest, platformMatches, type Manifest, type Platform } from '../oci/image-spec.js';
import type { CopiedImage, ImageDestination, ImageSource, ResolvedImage } from '../image/index.js';
import { berthErrorOf, MAX_MANIFEST, RegistryError, type Registries, type Repository } from './client.js';

export interface RemoteImage {
  repo: Repository;
  /** The digest the reference resolved to (an index's, for a multi-platform image): what `Digest:` shows. */
  digest: string;
  /** The image's own manifest. */
  manifest: { digest: string; mediaType: string; bytes: Buffer; parsed: Manifest };
  config: { digest: string; mediaType: string; bytes: Buffer };
  platform: Platform | undefined;
}

const SCHEMA1 = new Set([MediaType.dockerSchema1Manifest, MediaType.dockerSchema1SignedManifest, 'application/json']);

function schema1Error(name: string): Error {
  return invalidArgument(`${name}: Docker Image manifest version 2, schema 1 is not supported: ask the image's author to push it in the OCI format or Docker's schema 2`);
}

/** The manifest of an index that suits `want` (exact variant first, then one `want` can run). */
export function choosePlatform(index: { manifests: { digest: string; mediaType: string; platform?: Platform }[] }, want: Platform): { digest: string; mediaType: string; platform?: Platform } | undefined {
  const w = normalizePlatform(want);
  const cands = index.manifests.filter((m) => m.platform && platformMatches(m.platform, w));
  const exact = cands.find((m) => (normalizePlatform(m.platform!).variant ?? '') === (w.variant ?? (w.architecture === 'arm' ? 'v7' : '')));
  return exact ?? cands[0];
}

async function fetchVerified(repo: Repository, ref: string, name: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
  const m = await repo.getManifest(ref);
  if (SCHEMA1.has(m.mediaType) || (m.mediaType === '' && /"schemaVersion"\s*:\s*1\b/.test(m.bytes.toString('utf8', 0, 256)))) throw schema1Error(name);
  const actual = digestOf(m.bytes);
  if (ref.includes(':') && ref !== actual) throw invalidArgument(`${name}: manifest verification failed for digest ${ref}: got ${actual}`);
  if (m.digest && m.digest.startsWith('sha256:') && m.digest !== actual) throw invalidArgument(`${name}: manifest digest ${actual} does not match Docker-Content-Digest ${m.digest}`);
  return { bytes: m.bytes, mediaType: m.mediaType, digest: actual };
}

async function readAllLimited(s: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of s) {
    n += (c as Buffer).length;
    if (n > limit) {
      s.destroy();
      throw invalidArgument(`${what}: larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Resolves `ref` (tag or digest) in one repository: manifest (platform chosen) and config, verified. */
export async function resolveIn(repo: Repository, ref: string, name: string, platform: Platform | undefined): Promise<RemoteImage> {
  const top = await fetchVerified(repo, ref, name);
  let man = top;
  let chosen: Platform | undefined;
  const kind = (() => {
    try {
      return documentKind(top.bytes, `manifest ${top.digest}`);
    } catch (e) {
      if (isBerthError(e) && /schema 1/.test(e.message)) throw schema1Error(name);
      throw e;
    }
  })();
  if (kind === 'index') {
    const index = parseIndex(top.bytes, `${name}: index ${top.digest}`);
    const want = platform ?? defaultPlatform();
    const pick = choosePlatform(index, want);
    if (!pick) throw notFound(`no matching manifest for ${formatPlatform(normalizePlatform(want))} in the manifest list entries`);
    chosen = pick.platform;
    man = await fetchVerified(repo, pick.digest, name);
    if (documentKind(man.bytes, `manifest ${pick.digest}`) !== 'manifest') throw invalidArgument(`${name}: manifest ${pick.digest}: nested indexes are not supported`);
    if (!man.mediaType) man.mediaType = pick.mediaType;
  }
  const parsed = parseManifest(man.bytes, `${name}: manifest ${man.digest}`);
  const mediaType = parsed.mediaType ?? (man.mediaType || MediaType.ociManifest);
  for (const [i, l] of parsed.layers.entries()) {
    if (!isLayerType(l.mediaType)) throw invalidArgument(`${name}: manifest ${man.digest}: layers[${i}]: media type ${JSON.stringify(l.mediaType)} is not an image layer (an artifact?)`);
  }
  if (parsed.config.size > MAX_MANIFEST) throw invalidArgument(`${name}: config ${parsed.config.digest}: ${parsed.config.size} bytes is too large`);
  const cfgBytes = await readAllLimited(await repo.openBlob(parsed.config.digest), MAX_MANIFEST, `${name}: config ${parsed.config.digest}`);
  const cfgActual = digestOf(cfgBytes);
  if (cfgActual !== parsed.config.digest) throw invalidArgument(`${name}: config ${parsed.config.digest}: content does not match its digest: got ${cfgActual}`);
  const cfg = parseImageConfig(cfgBytes, `${name}: config ${parsed.config.digest}`);
  if (kind === 'manifest' && platform && !platformMatches({ os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) }, platform)) {
    throw notFound(`image with reference ${name} was found but does not match the specified platform: wanted ${formatPlatform(normalizePlatform(platform))}, actual: ${formatPlatform({ os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) })}`);
  }
  return {
    repo,
    digest: top.digest,
    manifest: { digest: man.digest, mediaType, bytes: man.bytes, parsed },
    config: { digest: parsed.config.digest, mediaType: parsed.config.mediaType, bytes: cfgBytes },
    platform: chosen,
  };
}

/** Resolves in each pull endpoint in turn (mirrors first); the registry's own error when all fail. */
export async function resolveRemote(regs: Registries, domain: string, path: string, ref: string, name: string, platform: Platform | undefined): Promise<RemoteImage> {
  const endpoints = regs.pullEndpoints(domain);
  if (endpoints.length === 0) throw unavailable(`${name}: registry ${domain} is set to mirrors only, and has none`);
  let last: unknown;
  for (const e of endpoints) {
    try {
      return await resolveIn(regs.repository(e, path), ref, name, platform);
    } catch (err) {
      last = err;
      if (!e.mirror) break;
    }
  }
  throw last instanceof RegistryError ? berthErrorOf(last) : last;
}

/** A blob's bytes, reopened with Range from where a broken connection stopped (a few times). */
function resumingBlob(repo: Repository, digest: string, size: number | undefined): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    let got = 0;
    let breaks = 0;
    for (;;) {
      let s: Readable;
      try {
        s = await repo.openBlob(digest, got);
      } catch (e) {
        throw e instanceof RegistryError ? berthErrorOf(e, `blob ${digest}: `) : e;
      }
      try {
        for await (const c of s) {
          got += (c as Buffer).length;
          yield c as Buffer;
        }
        if (size === undefined || got >= size) return;
        throw unavailable(`blob ${digest}: the connection closed after ${got} of ${size} bytes`);
      } catch (e) {
        if (isBerthError(e) && !/connection closed/.test(e.message)) throw e;
        if (++breaks > 5 || (size !== undefined && got >= size)) throw unavailable(`blob ${digest}: ${(e as Error).message}`, { cause: e });
      }
    }
  }
  return Readable.from(gen(), { objectMode: false });
}

export interface RegistrySourceOptions {
  /** Full references to name the image with ("…/busybox:latest"); none for a digest pull. */
  names: string[];
  /** name@digest to record. */
  repoDigests: string[];
  /** Layers fetched at once (3). */
  concurrency?: number;
  what?: string;
}

/** The pipeline's source for a resolved remote image. */
export function registrySource(img: RemoteImage, o: RegistrySourceOptions): ImageSource {
  return {
    what: o.what,
    async read(w) {
      const m = img.manifest;
      await w.blob(img.config.bytes, { digest: img.config.digest, size: img.config.bytes.length, role: 'config', mediaType: img.config.mediaType });
      await w.blob(m.bytes, { digest: m.digest, size: m.bytes.length, role: 'manifest', mediaType: m.mediaType });
      const layers = m.parsed.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
      await w.images([{ names: o.names, repoDigests: o.repoDigests, manifest: { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length }, config: { digest: img.config.digest, size: img.config.bytes.length, bytes: img.config.bytes, mediaType: img.config.mediaType }, layers }]);
      let next = 0;
      let failed = false;
      const worker = async () => {
        // After one layer failed, the others take no new layer (the copy fails anyway).
        while (next < layers.length && !failed) {
          const l = layers[next++]!;
          try {
            await w.blob({ open: () => resumingBlob(img.repo, l.digest, l.size) }, { digest: l.digest, size: l.size, role: 'layer', mediaType: l.mediaType });
          } catch (e) {
            failed = true;
            throw e;
          }
        }
      };
      const n = Math.max(1, Math.min(o.concurrency ?? 3, layers.length));
      const results = await Promise.allSettled(Array.from({ length: n }, worker));
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
    },
  };
}

export interface RegistryDestinationOptions {
  /** The tag to put the manifest under (else its digest). */
  tag?: string;
  /** The manifest's digest: never asked of the registry as a blob (it is pushed last, as a manifest). */
  manifestDigest: string;
  /** Other repositories of the same registry that may hold a blob (cross-repository mount). */
  mountFrom?: (digest: string) => string[];
  chunkSize?: number;
}

export interface RegistryDestination extends ImageDestination {
  /** Blobs mounted from another repository (digest → that repository). */
  readonly mounted: ReadonlyMap<string, string>;
  /** The manifest's digest as pushed. */
  pushed(): { digest: string; size: number } | undefined;
}

export function registryDestination(repo: Repository, o: RegistryDestinationOptions): RegistryDestination {
  const mounted = new Map<string, string>();
  let manifest: { bytes: Buffer; mediaType: string; digest: string } | undefined;
  let done: { digest: string; size: number } | undefined;
  const wrap = (e: unknown, what: string) => (e instanceof RegistryError ? berthErrorOf(e, `${what}: `) : e);
  return {
    mounted,
    pushed: () => done,
    async has(d) {
      if (d === o.manifestDigest) return false;
      try {
        if ((await repo.headBlob(d, [`repository:${repo.path}:pull,push`])) !== undefined) return true;
        for (const from of o.mountFrom?.(d) ?? []) {
          if (from === repo.path) continue;
          if (await repo.mountBlob(d, from)) {
            mounted.set(d, from);
            return true;
          }
        }
      } catch (e) {
        throw wrap(e, `blob ${d}`);
      }
      return false;
    },
    async putBlob(b) {
      const h = b.hint;
      if (h.role === 'manifest' || h.digest === o.manifestDigest) {
        const bytes = b.bytes ?? (await readAllLimited(b.stream(), MAX_MANIFEST, 'manifest'));
        const digest = digestOf(bytes);
        manifest = { bytes, mediaType: h.mediaType ?? MediaType.ociManifest, digest };
        return { digest, size: bytes.length };
      }
      if (h.digest === undefined || h.size === undefined) {
        // Not known before it is read: spooled in memory (small blobs only come so).
        const bytes = b.bytes ?? (await readAllLimited(b.stream(), 64 << 20, 'blob'));
        const d = new Digester().update(bytes).digest();
        await repo.uploadBlob(d, bytes.length, Readable.from([bytes]), { chunkSize: o.chunkSize }).catch((e: unknown) => {
          throw wrap(e, `blob ${d}`);
        });
        return { digest: d, size: bytes.length };
      }
      await repo.uploadBlob(h.digest, h.size, b.stream(), { chunkSize: o.chunkSize }).catch((e: unknown) => {
        throw wrap(e, `blob ${h.digest}`);
      });
      return { digest: h.digest, size: h.size };
    },
    async commit(images: readonly ResolvedImage[]): Promise<CopiedImage[]> {
      const img = images[0];
      if (!img || images.length !== 1) throw invalidArgument(`push: one image at a time (${images.length} given)`);
      if (!manifest || manifest.digest !== img.manifest.digest) throw invalidArgument(`push: the manifest ${img.manifest.digest} was not handed over`);
      try {
        await repo.putManifest(o.tag ?? manifest.digest, manifest.bytes, img.manifest.mediaType || manifest.mediaType);
      } catch (e) {
        throw wrap(e, `manifest ${o.tag ?? manifest.digest}`);
      }
      done = { digest: manifest.digest, size: manifest.bytes.length };
      return [{ id: img.config.digest, manifestDigest: manifest.digest, names: [...img.names] }];
    },
    async abort() {
      /* blobs uploaded stay (a registry collects those no manifest names) */
    },
  };
}
