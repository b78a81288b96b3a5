/**
 * Layer storage (containerd's "snapshotter"): committed read-only layers keyed by chain ID, and
 * writable snapshots on top of them that a container mounts as its root.
 *
 * Under `root/<driver>/`:
 *   layers/<hex of chain ID>.json  the record of a layer: parent, diff ID, size, its directory,
 *                                  its opaque directories. Created with link(2), so exactly one of
 *                                  several concurrent appliers of the same layer wins.
 *   l/<id>/                        a layer's content under a short random name (overlay's mount
 *                                  options must fit a page: short lowerdir paths allow more layers)
 *                                  overlay: the layer's own diff; vfs: its whole tree
 *   snapshots/<key>/               meta.json and upper/ + work/ (overlay) or fs/ (vfs)
 *   tmp/<pid>-…                    unpacking and removal in progress; a dead pid's are removed
 */
import { nodeCrypto } from '../lib/builtins.js';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { alreadyExists, conflict, errnoCode, failedPrecondition, invalidArgument, isBerthError, internal, notFound, reason } from '../lib/errors.js';
import { FsOpError } from '../sys/fsops.js';
import { createFileExclusive } from '../sys/fs.js';
import { runFsOpsSync, contentSize, copyTree, diskUsage, mountTable, randomId, shiftTree } from './fsutil.js';
import { unpackLayer, type Driver } from './apply.js';
import { diffTarStream, hideChanges, overlayChanges, vfsChanges, type Change, type DiffResult } from './diff.js';
import type { LowerLayer } from './lower.js';
import { treeSize } from './usage.js';
import { withRooted } from '../sys/rooted.js';

export type { Driver } from './apply.js';
export type { Change } from './diff.js';

/** What a caller mounts as the container's root (in order). */
export interface Mount {
  type: string;
  source: string;
  options: string[];
}

/** A user namespace's mapping: ids 0..size-1 of the container are uid.., gid.. on the host. */
export interface IdShift {
  uid: number;
  gid: number;
  size: number;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Bytes the layer takes on disk. */
  size: number;
}

export interface CommitResult extends ApplyResult {
  chainId: string;
}

interface LayerRecord {
  chainId: string;
  parent: string | null;
  diffId: string;
  size: number;
  /** The name of its directory under l/. */
  dir: string;
  /** overlay: its opaque directories. */
  opaque: string[];
  created: string;
}

interface SnapshotRecord {
  key: string;
  parent: string | null;
  driver: Driver;
  mounts: Mount[];
  created: string;
  /** Its files are owned as a user namespace with this mapping sees them (layers shifted once, cached). */
  idShift?: IdShift;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** overlay options berth always uses: files are copied up whole, renamed directories copied. */
export const OVERLAY_OPTIONS = ['index=off', 'redirect_dir=off', 'metacopy=off'] as const;
/** mount(2) takes at most a page of options. */
const MAX_MOUNT_DATA = 4095;
const MNT_DETACH = 2;

const sha256 = (s: string) => `sha256:${nodeCrypto().createHash('sha256').update(s).digest('hex')}`;

/** OCI chain ID of a stack of layers given bottom first. */
export function chainId(diffIds: readonly string[]): string {
  if (diffIds.length === 0) throw invalidArgument('chain ID of no layers');
  let id = '';
  for (const d of diffIds) {
    if (!DIGEST.test(d)) throw invalidArgument(`chain ID: ${JSON.stringify(d)} is not a sha256 digest`);
    id = id === '' ? d : sha256(`${id} ${d}`);
  }
  return id;
}

function checkDigest(d: string, what: string, ctx: string): void {
  if (typeof d !== 'string' || !DIGEST.test(d)) throw invalidArgument(`${ctx}: ${what} ${JSON.stringify(d)} is not a sha256 digest`);
}

function checkKey(key: string, ctx: string): void {
  if (typeof key !== 'string' || !KEY.test(key)) throw invalidArgument(`${ctx}: snapshot key ${JSON.stringify(key)}: use 1-128 letters, digits, '_', '.', '-', starting with a letter or digit`);
}

/** A record written once: false when another process wrote it first (see createFileExclusive). */
function writeJsonExclusive(path: string, value: unknown): boolean {
  return createFileExclusive(path, JSON.stringify(value, null, 1) + '\n', { fsync: true });
}

function readJson<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

const probed = new Map<number, boolean>();

/** Whether overlayfs mounts with berth's options on the file system of `root` (once per fs). */
function overlayWorks(root: string): boolean {
  if (/[,:\s]/.test(root)) return false;
  const dev = statSync(root).dev;
  const cached = probed.get(dev);
  if (cached !== undefined) return cached;
  const dir = join(root, `probe-${process.pid}-${randomId(8)}`);
  let ok = false;
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
    const merged = join(dir, 'merged');
    const data = [...OVERLAY_OPTIONS, `lowerdir=${join(dir, 'lower')}`, `upperdir=${join(dir, 'upper')}`, `workdir=${join(dir, 'work')}`].join(',');
    try {
      runFsOpsSync([{ op: 'mount', source: 'overlay', target: merged, fstype: 'overlay', data }]);
      ok = true;
    } catch (e) {
      // The kernel said no: vfs. Anything else (no helper) is an error of its own.
      if (!(e instanceof FsOpError)) throw e;
      ok = false;
    }
    if (ok) {
      try {
        runFsOpsSync([{ op: 'umount', target: merged, flags: MNT_DETACH }]);
      } catch {
        // best effort; the directory is removed below either way
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  probed.set(dev, ok);
  return ok;
}

export class Snapshotter {
  readonly driver: Driver;
  readonly root: string;
  private readonly base: string;

  /**
   * root: the snapshotter's directory. driver: by default the one this root already holds, else
   * overlay when the kernel mounts it on root's file system (probed once per file system), else vfs.
   */
  constructor(root: string, driver?: Driver) {
    this.root = resolve(root);
    if (driver !== undefined && driver !== 'overlay' && driver !== 'vfs') throw invalidArgument(`snapshotter: unknown driver ${JSON.stringify(driver)}`);
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    if (driver === undefined) {
      const hasOverlay = existsSync(join(this.root, 'overlay', 'layers'));
      const hasVfs = existsSync(join(this.root, 'vfs', 'layers'));
      driver = hasOverlay !== hasVfs ? (hasOverlay ? 'overlay' : 'vfs') : overlayWorks(this.root) ? 'overlay' : 'vfs';
    } else if (driver === 'overlay' && /[,:\s]/.test(this.root)) {
      throw invalidArgument(`snapshotter: root ${JSON.stringify(this.root)} contains a character overlay mount options cannot hold (',', ':' or white space)`);
    }
    this.driver = driver;
    this.base = join(this.root, driver);
    for (const d of ['layers', 'l', 'snapshots', 'tmp']) mkdirSync(join(this.base, d), { recursive: true, mode: 0o700 });
    chmodSync(join(this.base, 'l'), 0o755);
    this.removeStaleTemps();
  }

  private removeStaleTemps(): void {
    for (const name of readdirSync(join(this.base, 'tmp'))) {
      const pid = Number(name.split('-')[0]);
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || pidAlive(pid)) continue;
      try {
        rmSync(join(this.base, 'tmp', name), { recursive: true, force: true });
      } catch {
        // something still mounted there; left for later
      }
    }
  }

  private tempDir(purpose: string): string {
    const dir = join(this.base, 'tmp', `${process.pid}-${purpose}-${randomId(8)}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  // ---- layers ----

  private recordPath(chainId: string): string {
    return join(this.base, 'layers', `${chainId.slice('sha256:'.length)}.json`);
  }

  private readLayer(chainId: string): LayerRecord | undefined {
    return readJson<LayerRecord>(this.recordPath(chainId));
  }

  private layerDir(rec: LayerRecord): string {
    return join(this.base, 'l', rec.dir);
  }

  private shiftRoot(s: IdShift): string {
    return join(this.base, 'lshift', `${s.uid}-${s.gid}-${s.size}`);
  }

  /** The layer's files owned as seen through `s`: a copy made once per mapping and kept beside the layer. */
  private shiftedLayerDir(rec: LayerRecord, s: IdShift, what: string): string {
    const dir = join(this.shiftRoot(s), rec.dir);
    if (existsSync(dir)) return dir;
    mkdirSync(this.shiftRoot(s), { recursive: true, mode: 0o700 });
    const tmp = this.tempDir('shift');
    try {
      copyTree(this.layerDir(rec), tmp, `${what}: copy layer ${rec.dir}`);
      shiftTree(tmp, s);
      renameSync(tmp, dir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (existsSync(dir)) return dir; // another process made it meanwhile
      throw e;
    }
    return dir;
  }

  /** The layer and its ancestors, top first. */
  private chainOf(chainId: string, ctx: string): LayerRecord[] {
    const out: LayerRecord[] = [];
    let id: string | null = chainId;
    while (id !== null) {
      const rec = this.readLayer(id);
      if (!rec) throw notFound(id === chainId ? `${ctx}: layer ${id} not found` : `${ctx}: layer ${id} (below ${chainId}) not found`);
      out.push(rec);
      if (out.length > 1000) throw internal(`${ctx}: layer chain of ${chainId} does not end`);
      id = rec.parent;
    }
    return out;
  }

  private lowersOf(chainId: string | null, ctx: string): LowerLayer[] {
    if (chainId === null) return [];
    return this.chainOf(chainId, ctx).map((r) => ({ dir: this.layerDir(r), opaque: new Set(r.opaque) }));
  }

  hasLayer(chainId: string): boolean {
    checkDigest(chainId, 'chain ID', 'has layer');
    return existsSync(this.recordPath(chainId));
  }

  listLayers(): string[] {
    return readdirSync(join(this.base, 'layers'))
      .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
      .map((n) => `sha256:${n.slice(0, 64)}`)
      .sort();
  }

  layerSize(chainId: string): number {
    checkDigest(chainId, 'chain ID', 'layer size');
    const rec = this.readLayer(chainId);
    if (!rec) throw notFound(`layer size: layer ${chainId} not found`);
    return rec.size;
  }

  /** The directory holding a layer's content (overlay: its diff; vfs: its whole tree). */
  layerPath(chainId: string): string {
    checkDigest(chainId, 'chain ID', 'layer path');
    const rec = this.readLayer(chainId);
    if (!rec) throw notFound(`layer path: layer ${chainId} not found`);
    return this.layerDir(rec);
  }

  /**
   * Unpacks a layer tar (plain or gzip) once into its own directory. If the layer exists, reads
   * nothing and returns it. The chain ID must be the one `parent` and the tar's diff ID give.
   */
  async applyLayer(chainId: string, parent: string | undefined, tar: Readable, opts: { expectDiffId?: string; verified?: boolean } = {}): Promise<ApplyResult> {
    const what = `apply layer ${chainId}`;
    checkDigest(chainId, 'chain ID', 'apply layer');
    if (parent !== undefined) checkDigest(parent, 'parent', what);
    if (opts.expectDiffId !== undefined) checkDigest(opts.expectDiffId, 'expected diff ID', what);
    const existing = this.readLayer(chainId);
    if (existing) return { diffId: existing.diffId, size: existing.size };
    // `verified`: the caller read the tar from a blob whose digest is expectDiffId (uncompressed).
    const verifiedDiffId = opts.verified ? opts.expectDiffId : undefined;
    const r = await this.unpackAndCommit(parent ?? null, tar, what, verifiedDiffId, (diffId) => {
      if (opts.expectDiffId !== undefined && diffId !== opts.expectDiffId) throw invalidArgument(`${what}: diff ID mismatch: the tar's is ${diffId}, expected ${opts.expectDiffId}`);
      const computed = parent === undefined ? diffId : sha256(`${parent} ${diffId}`);
      if (computed !== chainId) throw invalidArgument(`${what}: chain ID mismatch: parent ${parent ?? '(none)'} and diff ID ${diffId} give ${computed}`);
      return chainId;
    });
    return { diffId: r.diffId, size: r.size };
  }

  private async unpackAndCommit(parent: string | null, tar: Readable, what: string, verifiedDiffId: string | undefined, idFor: (diffId: string) => string): Promise<CommitResult> {
    const parentRec = parent === null ? undefined : this.readLayer(parent);
    if (parent !== null && !parentRec) throw notFound(`${what}: parent layer ${parent} not found`);
    const lowers = this.driver === 'overlay' ? this.lowersOf(parent, what) : [];
    const tmp = this.tempDir('apply');
    try {
      const dir = join(tmp, 'layer');
      mkdirSync(dir, { mode: 0o755 });
      chmodSync(dir, 0o755);
      if (this.driver === 'vfs' && parentRec) copyTree(this.layerDir(parentRec), dir, `${what}: copy parent layer ${parent}`);
      const { diffId, opaque } = await unpackLayer(tar, { dir, driver: this.driver, lowers, what, verifiedDiffId });
      const id = idFor(diffId);
      const won = this.readLayer(id);
      if (won) return { chainId: id, diffId: won.diffId, size: won.size };
      return this.placeLayer(dir, { chainId: id, parent, diffId, opaque }, what);
    } catch (e) {
      if (isBerthError(e)) throw e;
      throw internal(`${what}: ${reason(e)}`, { cause: e });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Moves a directory in the layer format into the store as layer `l.chainId` and records it. When
   * another process recorded the same layer first, the directory is dropped: theirs is as good.
   */
  private placeLayer(src: string, l: Pick<LayerRecord, 'chainId' | 'parent' | 'diffId' | 'opaque'>, what: string): CommitResult {
    const rec: LayerRecord = { ...l, size: contentSize(src), dir: randomId(), created: new Date().toISOString() };
    const final = join(this.base, 'l', rec.dir);
    renameSync(src, final);
    let committed = false;
    try {
      committed = writeJsonExclusive(this.recordPath(l.chainId), rec);
    } finally {
      if (!committed) rmSync(final, { recursive: true, force: true });
    }
    if (!committed) {
      const other = this.readLayer(l.chainId);
      if (!other) throw internal(`${what}: layer record vanished while committing`);
      return { chainId: l.chainId, diffId: other.diffId, size: other.size };
    }
    return { chainId: l.chainId, diffId: l.diffId, size: rec.size };
  }

  /** Removes a layer that no other layer and no snapshot stands on. */
  removeLayer(chainId: string): void {
    const what = `remove layer ${chainId}`;
    checkDigest(chainId, 'chain ID', 'remove layer');
    const rec = this.readLayer(chainId);
    if (!rec) throw notFound(`${what}: layer not found`);
    for (const other of this.listLayers()) {
      if (this.readLayer(other)?.parent === chainId) throw conflict(`${what}: layer ${other} stands on it`);
    }
    for (const key of this.listSnapshots()) {
      if (this.readSnapshot(key)?.parent === chainId) throw conflict(`${what}: snapshot ${JSON.stringify(key)} stands on it`);
    }
    const trash = join(this.base, 'tmp', `${process.pid}-rm-${randomId(8)}`);
    unlinkSync(this.recordPath(chainId));
    let shifts: string[] = [];
    try {
      shifts = readdirSync(join(this.base, 'lshift'));
    } catch {
      /* none */
    }
    for (const m of shifts) rmSync(join(this.base, 'lshift', m, rec.dir), { recursive: true, force: true });
    try {
      renameSync(this.layerDir(rec), trash);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw internal(`${what}: ${reason(e)}`, { cause: e });
      return;
    }
    rmSync(trash, { recursive: true, force: true });
  }

  // ---- writable snapshots ----

  private snapDir(key: string): string {
    return join(this.base, 'snapshots', key);
  }

  private readSnapshot(key: string): SnapshotRecord | undefined {
    return readJson<SnapshotRecord>(join(this.snapDir(key), 'meta.json'));
  }

  private snapshot(key: string, ctx: string): SnapshotRecord {
    checkKey(key, ctx);
    const s = this.readSnapshot(key);
    if (!s) throw notFound(`${ctx}: snapshot ${JSON.stringify(key)} not found`);
    return s;
  }

  listSnapshots(): string[] {
    return readdirSync(join(this.base, 'snapshots')).filter((n) => KEY.test(n)).sort();
  }

  /**
   * A new writable snapshot on top of a layer (or empty). overlay: a new upper and work directory
   * over the parent chain's layer directories; vfs: a full copy of the parent's tree.
   */
  prepare(key: string, parent: string | undefined, opts: { idShift?: IdShift } = {}): Mount[] {
    const shift = opts.idShift;
    const what = `prepare snapshot ${JSON.stringify(key)}`;
    checkKey(key, 'prepare snapshot');
    if (parent !== undefined) checkDigest(parent, 'parent', what);
    const parentRec = parent === undefined ? undefined : this.readLayer(parent);
    if (parent !== undefined && !parentRec) throw notFound(`${what}: layer ${parent} not found`);
    const dir = this.snapDir(key);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') throw alreadyExists(`${what}: snapshot exists already`);
      throw internal(`${what}: ${reason(e)}`, { cause: e });
    }
    try {
      let mounts: Mount[];
      if (this.driver === 'overlay') {
        const upper = join(dir, 'upper');
        const work = join(dir, 'work');
        mkdirSync(upper, { mode: 0o755 });
        chmodSync(upper, 0o755);
        mkdirSync(work, { mode: 0o700 });
        if (shift) shiftTree(upper, shift);
        if (parent === undefined) {
          mounts = [{ type: 'bind', source: upper, options: ['rbind', 'rw'] }];
        } else {
          const lowers = this.chainOf(parent, what).map((r) => (shift ? this.shiftedLayerDir(r, shift, what) : this.layerDir(r)));
          const options = [...OVERLAY_OPTIONS, `lowerdir=${lowers.join(':')}`, `upperdir=${upper}`, `workdir=${work}`];
          const len = options.join(',').length;
          if (len > MAX_MOUNT_DATA) throw failedPrecondition(`${what}: the overlay mount options for ${lowers.length} layers take ${len} bytes, over the kernel's limit of ${MAX_MOUNT_DATA}`);
          mounts = [{ type: 'overlay', source: 'overlay', options }];
        }
      } else {
        const fs = join(dir, 'fs');
        mkdirSync(fs, { mode: 0o755 });
        chmodSync(fs, 0o755);
        if (parentRec) copyTree(this.layerDir(parentRec), fs, `${what}: copy layer ${parent}`);
        if (shift) shiftTree(fs, shift);
        mounts = [{ type: 'bind', source: fs, options: ['rbind', 'rw'] }];
      }
      const rec: SnapshotRecord = { key, parent: parent ?? null, driver: this.driver, mounts, created: new Date().toISOString(), ...(shift ? { idShift: shift } : {}) };
      if (!writeJsonExclusive(join(dir, 'meta.json'), rec)) throw alreadyExists(`${what}: snapshot exists already`);
      return mounts.map((m) => ({ ...m, options: [...m.options] }));
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      if (isBerthError(e)) throw e;
      throw internal(`${what}: ${reason(e)}`, { cause: e });
    }
  }

  mounts(key: string): Mount[] {
    return this.snapshot(key, 'snapshot mounts').mounts.map((m) => ({ ...m, options: [...m.options] }));
  }

  private source(key: string): string {
    return join(this.snapDir(key), this.driver === 'overlay' ? 'upper' : 'fs');
  }

  private async diff(s: SnapshotRecord, what: string): Promise<DiffResult> {
    if (this.driver === 'overlay') {
      const lowers = s.idShift && s.parent !== null ? this.chainOf(s.parent, what).map((r) => ({ dir: this.shiftedLayerDir(r, s.idShift!, what), opaque: new Set(r.opaque) })) : this.lowersOf(s.parent, what);
      return overlayChanges(this.source(s.key), lowers, what);
    }
    const parentDir = s.parent === null ? undefined : this.layerPath(s.parent);
    return vfsChanges(this.source(s.key), parentDir, what);
  }

  /**
   * The bytes a writable snapshot holds of its own (Docker's SizeRw): its regular files (overlay:
   * the upper directory; vfs: the whole tree), read through a rooted session (the container
   * controls that tree).
   */
  async writableSize(key: string): Promise<number> {
    this.snapshot(key, 'snapshot size');
    return withRooted(this.source(key), (fs) => treeSize(fs));
  }

  /** The snapshot's changes against its parent, as `docker diff` lists them. */
  async changes(key: string): Promise<Change[]> {
    const what = `changes of snapshot ${JSON.stringify(key)}`;
    const s = this.snapshot(key, 'snapshot changes');
    return (await this.diff(s, what)).changes;
  }

  /**
   * changes() without these paths where added or changed (mount points the caller made), and
   * without the directories listed only because of them.
   */
  async changesHiding(key: string, hide: ReadonlySet<string>): Promise<Change[]> {
    const what = `changes of snapshot ${JSON.stringify(key)}`;
    const d = await this.diff(this.snapshot(key, 'snapshot changes'), what);
    return hideChanges(d.changes, d.implied, hide);
  }

  /**
   * The snapshot's changes, walked once: the list, and from the same walk its layer tar and its
   * in-place commit (see commitInPlace). For a step that commits what it changed.
   */
  async pendingCommit(key: string): Promise<{ changes: Change[]; tar: () => Readable; commit: (diffId: string) => Promise<CommitResult> }> {
    const what = `diff of snapshot ${JSON.stringify(key)}`;
    const s = this.snapshot(key, 'snapshot diff');
    const d = await this.diff(s, what);
    return {
      changes: d.changes,
      tar: () => Readable.from(diffTarStream(this.source(s.key), d, what), { objectMode: false, highWaterMark: 1 << 20 }),
      commit: (diffId) => this.commitInPlace(key, diffId, d),
    };
  }

  /** The snapshot's changes as an OCI layer tar (uncompressed, deterministic). */
  diffTar(key: string): Readable {
    const what = `diff of snapshot ${JSON.stringify(key)}`;
    const s = this.snapshot(key, 'snapshot diff');
    const self = this;
    async function* gen(): AsyncGenerator<Buffer> {
      const d = await self.diff(s, what);
      yield* diffTarStream(self.source(s.key), d, what, s.idShift);
    }
    return Readable.from(gen(), { objectMode: false, highWaterMark: 1 << 20 });
  }

  /**
   * Turns the snapshot's changes into a layer on top of its parent (by applying its diffTar) and
   * returns that layer. The snapshot stays as it is.
   */
  async commit(key: string, expectChainId?: string): Promise<CommitResult> {
    const what = `commit snapshot ${JSON.stringify(key)}`;
    const s = this.snapshot(key, 'commit snapshot');
    if (expectChainId !== undefined) checkDigest(expectChainId, 'chain ID', what);
    return this.unpackAndCommit(s.parent, this.diffTar(key), what, undefined, (diffId) => {
      const id = s.parent === null ? diffId : sha256(`${s.parent} ${diffId}`);
      if (expectChainId !== undefined && id !== expectChainId) throw invalidArgument(`${what}: the changes give chain ID ${id}, not ${expectChainId}`);
      return id;
    });
  }

  /**
   * Makes the snapshot's own directory the layer on top of its parent, without unpacking a tar
   * again: overlay's upper directory is in the layer format already (whiteouts as 0/0 devices,
   * opaque directories by xattr) and vfs's tree is a whole layer. `diffId` is the digest of the
   * snapshot's diffTar, which the caller stored as the layer's blob. The snapshot is gone
   * afterwards (also when another process committed the same layer first).
   */
  async commitInPlace(key: string, diffId: string, diff?: DiffResult): Promise<CommitResult> {
    const what = `commit snapshot ${JSON.stringify(key)}`;
    const s = this.snapshot(key, 'commit snapshot');
    checkDigest(diffId, 'diff ID', what);
    const id = s.parent === null ? diffId : sha256(`${s.parent} ${diffId}`);
    const won = this.readLayer(id);
    if (won) {
      this.remove(key);
      return { chainId: id, diffId: won.diffId, size: won.size };
    }
    const d = diff ?? (await this.diff(s, what));
    try {
      return this.placeLayer(this.source(key), { chainId: id, parent: s.parent, diffId, opaque: [...d.opaque].sort() }, what);
    } finally {
      this.remove(key);
    }
  }

  /** Removes a snapshot, first unmounting (lazily) whatever of it is still mounted. */
  remove(key: string): void {
    const what = `remove snapshot ${JSON.stringify(key)}`;
    checkKey(key, 'remove snapshot');
    const dir = this.snapDir(key);
    if (!existsSync(dir)) throw notFound(`${what}: snapshot not found`);
    const upper = join(dir, 'upper');
    const targets = mountTable()
      .filter((m) => m.mountPoint.startsWith(`${dir}/`) || (m.fstype === 'overlay' && m.superOptions.split(',').includes(`upperdir=${upper}`)))
      .map((m) => m.mountPoint)
      .reverse();
    if (targets.length) runFsOpsSync(targets.map((target) => ({ op: 'umount' as const, target, flags: MNT_DETACH })));
    const trash = join(this.base, 'tmp', `${process.pid}-rm-${randomId(8)}`);
    renameSync(dir, trash);
    rmSync(trash, { recursive: true, force: true });
  }
}
