/**
 * Image use cases: import, list, inspect, history, tag, remove, prune, disk usage, the starter
 * image, and garbage collection of blobs and layers no image uses.
 */
import type { ImageInspect } from './models.js';
import { processAlive } from '../sys/proc.js';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ContentStore } from '../content/index.js';
import { applyChanges, copyImage, familiarName, ImageStore, parseReference, recordImage, storeDestination, storeLayer, tarballSource, type ContainerConfig, type CopyOptions, type ImageRecord, type LayerRecord, type RecordImageOptions } from '../image/index.js';
import { conflict, invalidArgument, isBerthError, notFound } from '../lib/errors.js';
import { boolFilter, filterMap, labelMatches, type Filters } from './filters.js';

import { MediaType, parseImageConfig, type ImageConfig } from '../oci/image-spec.js';
import { chainId, copyTree, packFrom, Snapshotter, type Driver } from '../snapshot/index.js';
import { withRooted } from '../sys/rooted.js';
import { dockerConfigShape } from './containers/config-merge.js';
import { runFsOps } from '../sys/fsops.js';
import { holdShared, withExclusive } from '../sys/lock.js';
import type { PullRequest, PullResult, RegistryService } from './registry.js';

export interface ImageServiceOptions {
  root: string;
  storageDriver?: string;
  /** Ids of images containers use (the containers layer supplies it). */
  inUse?: () => ReadonlyMap<string, string>;
  /** The registry client's config directory (config.json, certs.d); default ~/.config/berth. */
  configDir?: string;
  /** The containers that use an image, running or not (rmi's conflicts name them). */
  users?: (imageId: string) => { Id: string; running: boolean }[];
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  Labels: Record<string, string>;
  Containers: number;
}

export function goArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

/** A row of `system df`: how many, how many in use, their bytes, and the bytes a prune frees. */
export interface Usage {
  count: number;
  active: number;
  size: number;
  reclaimable: number;
}

export class ImageService {
  readonly content: ContentStore;
  readonly images: ImageStore;
  private snap: Snapshotter | undefined;

  constructor(private readonly opts: ImageServiceOptions) {
    this.content = new ContentStore(join(opts.root, 'content'));
    this.images = new ImageStore(join(opts.root, 'metadata'));
  }

  private registryService: RegistryService | undefined;

  /** Pull, push, login (engine/registry.ts), loaded on first use. */
  async registry(): Promise<RegistryService> {
    if (!this.registryService) {
      const { RegistryService } = await import('./registry.js');
      this.registryService ??= new RegistryService(this, this.opts.configDir);
    }
    return this.registryService;
  }

  /** `pull` (engine/registry.ts). */
  async pull(req: PullRequest): Promise<PullResult[]> {
    return (await this.registry()).pull(req);
  }

  get snapshots(): Snapshotter {
    if (!this.snap) {
      const driver = this.opts.storageDriver as Driver | undefined;
      if (driver !== undefined && driver !== 'overlay' && driver !== 'vfs') throw invalidArgument(`--storage-driver: unknown driver ${JSON.stringify(driver)} (overlay or vfs)`);
      const dir = join(this.opts.root, 'snapshots');
      mkdirSync(dir, { recursive: true });
      this.snap = new Snapshotter(dir, driver);
    }
    return this.snap;
  }

  /** Finds an image by reference, full id, or id prefix (at least 4 hex digits). */
  resolve(nameOrId: string): ImageRecord {
    const s = nameOrId.trim();
    const hex = s.replace(/^sha256:/, '');
    if (/^[0-9a-f]{64}$/.test(hex)) {
      const r = this.images.get('sha256:' + hex);
      if (r) return r;
    }
    if (/^[0-9a-f]{4,63}$/.test(hex)) {
      const matches = this.images.list().filter((r) => r.id.slice(7).startsWith(hex));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) throw invalidArgument(`image id prefix ${JSON.stringify(s)} is ambiguous: ${matches.length} images match`);
    }
    let ref;
    try {
      ref = parseReference(s);
    } catch (e) {
      if (/^[0-9a-f]{4,64}$/.test(hex)) throw notFound(`No such image: ${s}`);
      throw e;
    }
    const id = ref.digest ? this.images.getRef(ref.toString()) ?? this.byRepoDigest(ref.toString()) : this.images.getRef(ref.toString());
    const rec = id ? this.images.get(id) : undefined;
    // dockerd names the reference as it looked it up: `nosuch` is `nosuch:latest`.
    if (!rec) throw notFound(`No such image: ${familiarName(ref.toString())}`);
    return rec;
  }

  private byRepoDigest(full: string): string | undefined {
    return this.images.list().find((r) => r.repoDigests.includes(full))?.id;
  }

  config(rec: ImageRecord): ImageConfig {
    return parseImageConfig(this.content.read(rec.configDigest), `config ${rec.configDigest}`);
  }

  private size(rec: ImageRecord): number {
    return rec.layers.reduce((n, l) => n + (this.snapshots.hasLayer(l.chainId) ? this.snapshots.layerSize(l.chainId) : l.size), 0);
  }

  /**
   * `images` (GET /images/json) as dockerd lists them, newest first. Filters: reference (a glob on
   * the familiar name, with or without its tag: the image's other tags are not listed), dangling
   * (true: untagged only; false: tagged only), label (KEY or KEY=VALUE, all must hold), before and
   * since (created before or after an image). Without `all`, untagged images that others are built
   * on are left out (berth records no parents, so none is).
   */
  list(opts: { all?: boolean; filters?: Filters } = {}): ImageSummary[] {
    const f = filterMap(opts.filters, ['before', 'dangling', 'label', 'reference', 'since']);
    const dangling = boolFilter(f, 'dangling', false);
    const createdOf = (rec: ImageRecord) => Math.floor(Date.parse(this.config(rec).created ?? rec.created) / 1000) || 0;
    const timeOf = (ref: string) => {
      try {
        return createdOf(this.resolve(ref));
      } catch (e) {
        if (isBerthError(e, 'NotFound')) throw notFound(`No such image: ${normalizedForMessage(ref)}`);
        throw e;
      }
    };
    const before = f.get('before')?.map(timeOf).at(-1);
    const since = f.get('since')?.map(timeOf).at(-1);
    const patterns = f.get('reference');
    for (const p of patterns ?? []) if (!validGlob(p)) throw invalidArgument('syntax error in pattern');
    const refs = this.images.refs();
    const inUse = this.opts.inUse?.() ?? new Map<string, string>();
    const out: ImageSummary[] = [];
    for (const rec of this.images.list()) {
      const created = createdOf(rec);
      if (before !== undefined && !(created < before)) continue;
      if (since !== undefined && !(created > since)) continue;
      const mine = refs.filter((r) => r.id === rec.id).map((r) => familiarName(r.ref));
      const matching = patterns ? mine.filter((r) => patterns.some((p) => globMatch(p, r) || globMatch(p, r.replace(/[:@].*$/, '')))) : mine;
      if (patterns && matching.length === 0) continue;
      const tags = matching.filter((r) => !r.includes('@')).sort();
      const digests = [...new Set([...matching.filter((r) => r.includes('@')), ...(patterns ? [] : rec.repoDigests.map((d) => familiarName(d)))])];
      const untagged = tags.length === 0 && digests.length === 0;
      if (dangling === true && !untagged) continue;
      if (dangling === false && untagged) continue;
      const labels = (this.config(rec).config?.Labels ?? {}) as Record<string, string>;
      if (f.has('label') && !f.get('label')!.every((v) => labelMatches(labels, v))) continue;
      out.push({
        Id: rec.id,
        RepoTags: tags,
        RepoDigests: digests,
        Created: created,
        Size: this.size(rec),
        Labels: labels,
        Containers: inUse.has(rec.id) ? 1 : 0,
      });
    }
    return out.sort((a, b) => b.Created - a.Created || a.Id.localeCompare(b.Id));
  }

  /** `image inspect`: the record in Docker's shape (models.ts' ImageInspect). */
  inspect(nameOrId: string): ImageInspect {
    let rec: ImageRecord;
    try {
      rec = this.resolve(nameOrId);
    } catch (e) {
      // dockerd's words for this one lookup: "no such image: x: No such image: x:latest".
      throw isBerthError(e, 'NotFound') ? notFound(`no such image: ${nameOrId}: ${e.message}`, { cause: e }) : e;
    }
    const cfg = this.config(rec);
    const raw = cfg as ImageConfig & { container?: unknown; container_config?: unknown };
    return {
      Id: rec.id,
      RepoTags: this.images.refsOf(rec.id).filter((r) => !r.includes('@')).map(familiarName),
      RepoDigests: rec.repoDigests.map(familiarName),
      Parent: rec.parent && this.images.has(rec.parent) ? rec.parent : '',
      Comment: cfg.history?.[cfg.history.length - 1]?.comment ?? '',
      Created: cfg.created ?? rec.created,
      Author: cfg.author ?? '',
      Container: typeof raw.container === 'string' ? raw.container : '',
      ContainerConfig: dockerConfigShape((raw.container_config ?? {}) as ContainerConfig) as ImageInspect['Config'],
      // The OCI config's ExposedPorts/Volumes hold empty objects, as Docker's do.
      Config: dockerConfigShape((cfg.config ?? {}) as ContainerConfig) as ImageInspect['Config'],
      Architecture: cfg.architecture,
      Os: cfg.os,
      Size: this.size(rec),
      RootFS: { Type: 'layers', Layers: rec.layers.map((l) => l.diffId) },
      Metadata: { LastTagTime: rec.added },
      Manifest: { Digest: rec.manifestDigest, MediaType: rec.manifestMediaType },
      // Docker's GraphDriver.Data is strings: the layers' directories, the top one first.
      GraphDriver: { Name: this.snapshots.driver, Data: rec.layers.length ? { LowerDir: [...rec.layers].reverse().map((l) => this.snapshots.layerPath(l.chainId)).join(':') } : {} },
    };
  }

  history(nameOrId: string): { Id: string; Created: number; CreatedBy: string; Size: number; Comment: string; Tags: string[] }[] {
    const rec = this.resolve(nameOrId);
    const cfg = this.config(rec);
    const layers = [...rec.layers];
    const rows = (cfg.history ?? []).map((h) => {
      const l = h.empty_layer ? undefined : layers.shift();
      const size = !l ? 0 : this.snapshots.hasLayer(l.chainId) ? this.snapshots.layerSize(l.chainId) : l.size;
      return { Id: '<missing>', Created: Math.floor(Date.parse(h.created ?? '') / 1000) || 0, CreatedBy: h.created_by ?? '', Size: size, Comment: h.comment ?? '', Tags: [] as string[] };
    });
    if (rows.length === 0) rows.push({ Id: rec.id, Created: 0, CreatedBy: '', Size: this.size(rec), Comment: '', Tags: [] });
    // The top row of each image in the chain of parents (commit, build) is that image's, as
    // dockerd shows them; the rows below the oldest one it knows are <missing>.
    let top = rows.length - 1;
    for (let img: ImageRecord | undefined = rec; img && top >= 0; img = img.parent ? this.images.get(img.parent) : undefined) {
      rows[top]!.Id = img.id;
      rows[top]!.Tags = this.images.refsOf(img.id).map(familiarName);
      const parent = img.parent ? this.images.get(img.parent) : undefined;
      if (!parent) break;
      top = (this.config(parent).history ?? []).length - 1;
    }
    rows.reverse();
    return rows;
  }

  tag(source: string, target: string): void {
    const rec = this.resolve(source);
    const ref = parseReference(target);
    if (ref.digest) throw invalidArgument(`refusing to create a tag with a digest reference: ${JSON.stringify(target)}`);
    this.images.setRef(ref.toString(), rec.id);
  }

  /**
   * `rmi` as dockerd does it, the records in its order: by reference, the tag goes (refused while a
   * container uses the image and it is the last tag of its repository, unless forced); the image
   * itself goes once no tag is left and nothing holds it. By id: all its tags and the image (tags
   * of several repositories, or a stopped container using it, need force; a running container's
   * image cannot go). Then each layer no other image, container or build cache holds, top first.
   */
  remove(nameOrId: string, opts: { force?: boolean } = {}): { Untagged?: string; Deleted?: string }[] {
    const rec = this.resolve(nameOrId);
    const force = opts.force === true;
    const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
    const records: { Untagged?: string; Deleted?: string }[] = [];
    const users = this.opts.users?.(rec.id) ?? [];
    const refs = () => this.images.refsOf(rec.id);
    // All references within one repository (dockerd's isSingleReference).
    const oneRepository = (rs: string[]) => new Set(rs.map((r) => r.replace(/[:@][^/]*$/, ''))).size <= 1;
    const untag = (r: string) => {
      this.images.deleteRef(r);
      records.push({ Untagged: familiarName(r) });
    };
    // By id when the name is a prefix of the image's id (dockerd's isImageIDPrefix), else by reference.
    const hex = nameOrId.trim().replace(/^sha256:/, '');
    const byRef = !(/^[0-9a-f]+$/.test(hex) && rec.id.slice(7).startsWith(hex));
    let quiet = false;
    if (byRef) {
      const full = parseReference(nameOrId).toString();
      if (!force && oneRepository(refs()) && users.length) {
        throw conflict(`conflict: unable to remove repository reference ${JSON.stringify(nameOrId)} (must force) - container ${short(users[0]!.Id)} is using its referenced image ${short(rec.id)}`);
      }
      untag(refs().find((r) => r === full) ?? full);
      if (refs().length) return records;
      quiet = true;
    } else if (oneRepository(refs())) {
      const running = users.find((u) => u.running);
      if (running) throw conflict(`conflict: unable to delete ${short(rec.id)} (cannot be forced) - image is being used by running container ${short(running.Id)}`);
      if (!force && users.length) throw conflict(`conflict: unable to delete ${short(rec.id)} (must be forced) - image is being used by stopped container ${short(users[0]!.Id)}`);
      for (const r of refs()) untag(r);
    }
    // What may still hold the image: a running container (never forced), tags of several
    // repositories and stopped containers (forced).
    const running = users.find((u) => u.running);
    const conflictOf = running
      ? `conflict: unable to delete ${short(rec.id)} (cannot be forced) - image is being used by running container ${short(running.Id)}`
      : !force && refs().length
        ? `conflict: unable to delete ${short(rec.id)} (must be forced) - image is referenced in multiple repositories`
        : !force && users.length
          ? `conflict: unable to delete ${short(rec.id)} (must be forced) - image is being used by stopped container ${short(users[0]!.Id)}`
          : undefined;
    if (conflictOf) {
      // After untagging the last tag, an image that is still used stays, quietly (dockerd's rule).
      if (quiet) return records;
      throw conflict(conflictOf);
    }
    for (const r of refs()) untag(r);
    this.images.delete(rec.id);
    records.push({ Deleted: rec.id });
    const removed = new Set(this.gc().removedLayers);
    for (const l of [...rec.layers].reverse()) if (removed.has(l.chainId)) records.push({ Deleted: l.chainId });
    return records;
  }

  /** Removes dangling images (all unused ones with `all`), then unreferenced blobs and layers. */
  prune(opts: { all?: boolean } = {}): { deleted: string[]; reclaimed: number } {
    // Under the gc lock alone: an image being loaded is recorded before it is tagged, and must
    // not be taken for a dangling one in between.
    mkdirSync(this.opts.root, { recursive: true });
    return withExclusive(join(this.opts.root, 'gc.lock'), () => this.pruneLocked(opts)) ?? { deleted: [], reclaimed: 0 };
  }

  private pruneLocked(opts: { all?: boolean }): { deleted: string[]; reclaimed: number } {
    const inUse = this.opts.inUse?.() ?? new Map<string, string>();
    const refs = this.images.refs();
    const deleted: string[] = [];
    for (const rec of this.images.list()) {
      if (inUse.has(rec.id)) continue;
      const tagged = refs.some((r) => r.id === rec.id);
      if (tagged && !opts.all) continue;
      for (const r of refs.filter((x) => x.id === rec.id)) this.images.deleteRef(r.ref);
      this.images.delete(rec.id);
      deleted.push(rec.id);
    }
    const { bytes } = this.sweep([]);
    return { deleted, reclaimed: bytes };
  }

  /**
   * Runs `fn`, which adds blobs, layers and records (load, import, commit, build, the starter),
   * with a shared hold on the root's gc lock: a garbage collection does not run meanwhile, so it
   * cannot delete what `fn` has stored but not yet recorded.
   */
  async writing<T>(fn: () => Promise<T>): Promise<T> {
    mkdirSync(this.opts.root, { recursive: true });
    const release = holdShared(join(this.opts.root, 'gc.lock'));
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Deletes blobs and layers that no image (and no container snapshot) needs, holding the gc lock
   * alone. While an import or a build holds it (see writing), it waits a while, then leaves the
   * sweep to the next gc (0 bytes reclaimed).
   */
  gc(extraLayers: Iterable<string> = []): { bytes: number; removedLayers: string[] } {
    mkdirSync(this.opts.root, { recursive: true });
    return withExclusive(join(this.opts.root, 'gc.lock'), () => this.sweep(extraLayers)) ?? { bytes: 0, removedLayers: [] };
  }

  private sweep(extraLayers: Iterable<string>): { bytes: number; removedLayers: string[] } {
    const keepBlobs = new Set<string>();
    const keepLayers = new Set<string>(extraLayers);
    // The build cache's layers stay until `builder prune` (records written by builder/cache.ts).
    for (const l of this.buildCacheLayers()) {
      keepBlobs.add(l.digest);
      keepLayers.add(l.chainId);
    }
    for (const rec of this.images.list()) {
      keepBlobs.add(rec.manifestDigest);
      keepBlobs.add(rec.configDigest);
      for (const l of rec.layers) {
        keepBlobs.add(l.digest);
        keepLayers.add(l.chainId);
      }
    }
    const r = this.content.gc(keepBlobs);
    let bytes = r.bytes;
    const removedLayers: string[] = [];
    // Pass after pass: a layer goes once the layers standing on it have gone.
    for (let progress = true; progress; ) {
      progress = false;
      for (const key of this.snapshots.listLayers()) {
        if (keepLayers.has(key)) continue;
        try {
          const size = this.snapshots.layerSize(key);
          this.snapshots.removeLayer(key);
          bytes += size;
          removedLayers.push(key);
          progress = true;
        } catch {
          /* a container's snapshot or another layer still stands on it */
        }
      }
    }
    return { bytes, removedLayers };
  }

  private buildCacheLayers(): LayerRecord[] {
    const dir = join(this.opts.root, 'buildcache', 'records');
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: LayerRecord[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      try {
        const r = JSON.parse(fs.readFileSync(join(dir, n), 'utf8')) as { layer: LayerRecord | null };
        if (r.layer) out.push(r.layer);
      } catch {
        /* being written */
      }
    }
    return out;
  }

  /** `system df`'s images row: all images, those a container uses, their sizes. */
  df(): { images: Usage; buildCache: Usage } {
    const list = this.list();
    // Docker's figure: each layer once, however many images share it.
    const layerSizes = (ids: Set<string>) => {
      const seen = new Map<string, number>();
      for (const rec of this.images.list()) if (ids.has(rec.id)) for (const l of rec.layers) seen.set(l.chainId, this.snapshots.hasLayer(l.chainId) ? this.snapshots.layerSize(l.chainId) : l.size);
      return [...seen.values()].reduce((a, b) => a + b, 0);
    };
    const size = layerSizes(new Set(list.map((i) => i.Id)));
    const active = list.filter((i) => i.Containers > 0);
    const activeSize = layerSizes(new Set(active.map((i) => i.Id)));
    // The build cache: its records, and the layers only it keeps (what `builder prune` frees).
    const inImages = new Set(this.images.list().flatMap((r) => r.layers.map((l) => l.chainId)));
    const cacheLayers = new Map(this.buildCacheLayers().map((l) => [l.chainId, l]));
    let cacheSize = 0;
    for (const [chainId] of cacheLayers) {
      if (inImages.has(chainId)) continue;
      try {
        cacheSize += this.snapshots.layerSize(chainId);
      } catch {
        /* gone meanwhile */
      }
    }
    return {
      images: { count: list.length, active: active.length, size, reclaimable: size - activeSize },
      buildCache: { count: cacheLayers.size, active: 0, size: cacheSize, reclaimable: cacheSize },
    };
  }

  /**
   * Records an image made of `layers` (blobs in the content store, unpacked in the snapshotter)
   * and a config (an object to store, or the digest of a config blob stored as it came, so that
   * the image id is kept), with its manifest (given, or a new OCI manifest); tags it with `ref`.
   */
  storeImage(opts: RecordImageOptions): ImageRecord {
    return recordImage(this, opts);
  }

  /** Stores one uncompressed layer tar on top of `parent` layers: blob, then unpacked layer. */
  async addLayer(src: Readable | AsyncIterable<unknown>, parentChain: string | undefined, parentDiffIds: string[]): Promise<LayerRecord> {
    return storeLayer(this, src, parentChain, parentDiffIds);
  }

  /**
   * A writable snapshot's changes as a layer on top of its parent (the parent layers given):
   * the diff tar stored as the blob, and the snapshot's directory taken as the unpacked layer
   * (no second unpack). The snapshot is gone afterwards. Null when it changed nothing.
   */
  async commitSnapshotLayer(key: string, parentDiffIds: string[]): Promise<LayerRecord | null> {
    const pending = await this.snapshots.pendingCommit(key);
    if (pending.changes.length === 0) return null;
    const blob = await this.content.write(pending.tar());
    const diffId = blob.digest;
    const chain = chainId([...parentDiffIds, diffId]);
    try {
      await pending.commit(diffId);
    } catch (e) {
      if (!this.images.list().some((r) => r.layers.some((l) => l.digest === blob.digest))) this.content.delete(blob.digest);
      throw e;
    }
    return { digest: blob.digest, mediaType: MediaType.ociLayer, size: blob.size, diffId, chainId: chain };
  }

  /**
   * `commit`: the changes of a writable snapshot (a container's layer) as a new layer on top of
   * `base`, with `config` as the new image's (the container's, changes applied), a message and
   * an author, as a new image whose parent is `base`.
   */
  async commitSnapshot(key: string, base: ImageRecord, opts: { ref?: string; config?: ContainerConfig; container?: { id: string; config: ContainerConfig }; changes?: string[]; message?: string; author?: string; createdBy?: string } = {}): Promise<ImageRecord> {
    return this.writing(async () => {
      if (opts.ref) parseReference(opts.ref);
      const cfg = this.config(base);
      const containerConfig = opts.config ?? applyChanges((cfg.config ?? {}) as ContainerConfig, opts.changes ?? []);
      const top = base.layers[base.layers.length - 1];
      const layer = await this.addLayer(this.snapshots.diffTar(key), top?.chainId, base.layers.map((l) => l.diffId));
      const now = new Date().toISOString();
      const config: ImageConfig = {
        ...cfg,
        created: now,
        ...(opts.author ? { author: opts.author } : {}),
        config: containerConfig as ImageConfig['config'],
        // dockerd's own fields of a commit: the container and its config before the changes.
        ...(opts.container ? { container: opts.container.id, container_config: opts.container.config } : {}),
        rootfs: { type: 'layers', diff_ids: [...base.layers.map((l) => l.diffId), layer.diffId] },
        history: [
          ...(cfg.history ?? []),
          { created: now, created_by: opts.createdBy ?? '', ...(opts.author ? { author: opts.author } : {}), ...(opts.message ? { comment: opts.message } : {}) },
        ],
      };
      if (!opts.author) delete config.author;
      return this.storeImage({ config, layers: [...base.layers, layer], ref: opts.ref, parent: base.id });
    });
  }

  /**
   * `export`: the merged file system of a writable snapshot (a container's) as a tar stream. The
   * snapshot is mounted on a private temporary directory while the tar is read.
   */
  async exportSnapshot(key: string): Promise<Readable> {
    if (!this.snapshots.mounts(key)[0]) throw notFound(`snapshot ${key}: not found`);
    const out = new PassThrough();
    // Mounted while the tar is read; unmounted when it ended or failed.
    // Read through a rooted session: a container's tree is its own, links in it archived as links.
    this.withSnapshot(key, false, (dir) =>
      withRooted(dir, (rfs) =>
        new Promise<void>((resolve, reject) => {
          const tarStream = packFrom(rfs, '/', { name: '', xattrs: true, what: `export ${key}` });
          tarStream.on('error', reject);
          tarStream.on('end', resolve);
          tarStream.pipe(out, { end: false });
        }),
      ),
    ).then(
      () => out.end(),
      (e: Error) => out.destroy(e),
    );
    return out;
  }

  /**
   * Runs `fn` with the snapshot's merged file system mounted on a private temporary directory
   * (read-only unless `writable`), and unmounts it afterwards.
   */
  async withSnapshot<T>(key: string, writable: boolean, fn: (dir: string) => Promise<T> | T): Promise<T> {
    const m = this.snapshots.mounts(key)[0];
    if (!m) throw notFound(`snapshot ${key}: not found`);
    await this.unmountStale();
    const base = join(this.opts.root, 'mnt');
    mkdirSync(base, { recursive: true, mode: 0o700 });
    const target = mkdtempSync(join(base, `${process.pid}-`));
    if (m.type === 'overlay') await runFsOps([{ op: 'mount', source: 'overlay', target, fstype: 'overlay', data: m.options.join(','), flags: writable ? 0 : 1 }]);
    else await runFsOps([{ op: 'mount', source: m.source, target, fstype: '', flags: 4096 | 16384 }]);
    try {
      return await fn(target);
    } finally {
      await runFsOps([{ op: 'umount', target, flags: 2 /* MNT_DETACH */ }]).catch(() => {});
      rmSync(target, { recursive: true, force: true });
    }
  }

  /**
   * The mounts of withSnapshot whose process was killed before it unmounted them: each is under
   * <root>/mnt/PID-*, so the next look at a snapshot (or a prune) unmounts and removes those of
   * processes that are gone.
   */
  async unmountStale(): Promise<void> {
    const base = join(this.opts.root, 'mnt');
    let names: string[];
    try {
      names = fs.readdirSync(base);
    } catch {
      return;
    }
    for (const n of names) {
      const pid = Number(n.split('-')[0]);
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
      const dir = join(base, n);
      await runFsOps([{ op: 'umount', target: dir, flags: 2 /* MNT_DETACH */ }]).catch(() => {});
      try {
        fs.rmdirSync(dir);
      } catch {
        /* still mounted (busy) or taken by another cleaner */
      }
    }
  }

  /**
   * Copies what a snapshot holds at `path` (owners, modes and times kept) into `dest`: the seed
   * of an empty volume first mounted there. Nothing happens when the path is missing or empty.
   */
  async copyFromSnapshot(key: string, path: string, dest: string): Promise<void> {
    // Both trees through rooted sessions: the image's path resolved inside the image, its links
    // copied as links into the volume, nothing followed out of either.
    await this.withSnapshot(key, false, (dir) =>
      withRooted(dir, async (img) => {
        const st = await img.lstatIfExists(path);
        if (st?.type !== 'dir' || (await img.readdir(path)).length === 0) return;
        await withRooted(dest, (vol) => copyTree(img, path, vol, '/', { name: '', xattrs: true, what: `seed the volume at ${path}` }));
      }),
    );
  }

  /** `import`: a root filesystem tar (file or stream) as a one-layer image, like docker import (through the copy pipeline). */
  async importTar(src: Readable | AsyncIterable<unknown>, opts: { ref?: string; changes?: string[]; message?: string; source?: string; onEvent?: CopyOptions['onEvent'] } = {}): Promise<ImageRecord> {
    return this.writing(async () => {
      const names = opts.ref ? [parseReference(opts.ref).toString()] : []; // fail before reading anything
      const cfgChanges = applyChanges({}, opts.changes ?? []);
      const now = new Date().toISOString();
      const config = (diffId: string): ImageConfig => ({
        architecture: goArch(),
        os: 'linux',
        created: now,
        config: cfgChanges as ImageConfig['config'],
        rootfs: { type: 'layers', diff_ids: [diffId] },
        // As Docker: no created-by, and the message or where it came from (a file is sent as `-`) as the comment.
        history: [{ created: now, comment: opts.message || 'Imported from -' }],
      });
      const [copied] = await copyImage(tarballSource(src, { names, config }), storeDestination(this), { onEvent: opts.onEvent });
      return this.images.require(copied!.id);
    });
  }

  /** The starter image: the host's static busybox and a link per applet, tagged busybox:latest. */
  async starter(ref = 'busybox:latest'): Promise<ImageRecord> {
    return this.writing(async () => {
      const { makeBusyboxRootfs, findStaticBusybox } = await import('../runtime/index.js');
      const dir = mkdtempSync(join(tmpdir(), 'berth-starter-'));
      try {
        makeBusyboxRootfs(dir);
        // Every time stamp is the busybox binary's: the same host makes the same image (same id).
        const mtime = new Date(Math.floor(fs.statSync(findStaticBusybox()).mtimeMs / 1000) * 1000);
        const pack = packDir(dir, { mtime });
        const layer = await this.addLayer(pack, undefined, []);
        const now = mtime.toISOString();
        const config: ImageConfig = {
          architecture: goArch(),
          os: 'linux',
          created: now,
          config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] } as ImageConfig['config'],
          rootfs: { type: 'layers', diff_ids: [layer.diffId] },
          history: [{ created: now, created_by: 'berth starter: busybox-static from the host' }],
        };
        return this.storeImage({ config, layers: [layer], ref });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

/** Go's path.Match as Docker's reference filter uses it: `*` and `?` within a path segment, `[...]` classes, `\\` escapes. */
function globRegExp(pattern: string): RegExp | undefined {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      if (i + 1 >= pattern.length) return undefined;
      re += '\\' + pattern[++i];
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) return undefined;
      re += `[${pattern.slice(i + 1, end)}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\]\\/]/g, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    return undefined;
  }
}

function validGlob(pattern: string): boolean {
  return globRegExp(pattern) !== undefined;
}

function globMatch(pattern: string, s: string): boolean {
  return globRegExp(pattern)?.test(s) ?? false;
}

/** A reference as dockerd's messages write it: "nope" is "nope:latest". */
function normalizedForMessage(ref: string): string {
  const last = ref.split('/').pop() ?? ref;
  return /^[0-9a-f]{4,64}$/.test(ref) || last.includes(':') || ref.includes('@') ? ref : `${ref}:latest`;
}

/** A directory as a tar stream (deterministic order, numeric owners, mtimes kept). */
export function packDir(dir: string, opts: { mtime?: Date } = {}): Readable {
  const out = new PassThrough();
  void (async () => {
    const tar = (await import('tar-stream')).default;
    const pack = tar.pack();
    pipeline(pack, out).catch((e) => out.destroy(e as Error));
    const walk = async (rel: string): Promise<void> => {
      const full = join(dir, rel);
      const names = fs.readdirSync(full).sort();
      for (const n of names) {
        const r = rel ? `${rel}/${n}` : n;
        const p = join(dir, r);
        const st = fs.lstatSync(p);
        const base = { name: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: opts.mtime ?? new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
        if (st.isDirectory()) {
          pack.entry({ ...base, type: 'directory' });
          await walk(r);
        } else if (st.isSymbolicLink()) {
          pack.entry({ ...base, type: 'symlink', linkname: fs.readlinkSync(p) });
        } else if (st.isFile()) {
          await new Promise<void>((res, rej) => {
            const e = pack.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? rej(err) : res()));
            fs.createReadStream(p).pipe(e);
          });
        }
      }
    };
    await walk('');
    pack.finalize();
  })().catch((e) => out.destroy(e as Error));
  return out;
}


