/**
 * `build`: the engine's side of Dockerfile builds. It gives the builder (src/builder) what it needs:
 * images and layers (the ImageService), and an Executor that runs RUN steps with the runtime on
 * the step's snapshot, with Docker's container defaults and the stage's env/user/workdir. Also the
 * outputs (an OCI or Docker archive, a local directory) and `builder prune`.
 */
import { processAlive } from '../sys/proc.js';
import { randomBytes } from '../lib/builtins.js';
import { closeSync, createWriteStream, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseReference, type ImageRecord } from '../image/index.js';
import { Builder, BuildCache, type BuildBackend, type BuildOptions as BuilderOptions, type BuildResult as BuilderResult, type Executor, type ProgressEvent as BuilderProgress, type RunRequest } from '../builder/index.js';
import { invalidArgument, isBerthError } from '../lib/errors.js';
import type { ImageConfig } from '../oci/image-spec.js';
import type { Mount } from '../oci/runtime-spec.js';
import { Runtime } from '../runtime/index.js';
import { copyTree } from '../snapshot/index.js';
import { withRooted } from '../sys/rooted.js';
import { extractArchiveFile } from './archive-file.js';
import { hostResolvText, resolvConf } from '../network/index.js';
import type { NetworkService } from './networks.js';
import { secureJoin } from '../sys/securejoin.js';
import { bindMount, buildSpec, resolveUserIn } from './container-spec.js';
import { goArch, type ImageService } from './images.js';

/** A build request: context, Dockerfile, build args, target, cache, labels, network, secrets, tags, progress callback, cancel signal. */
export type BuildOptions = BuilderOptions;
/** A build's image id and its counts (steps run, steps from the cache, context reads). */
export type BuildResult = BuilderResult;
/** A step of a build's progress, for the front end to render (the CLI: plain lines or a terminal view). */
export type ProgressEvent = BuilderProgress;

export interface BuildOutput {
  type: 'oci' | 'docker' | 'local' | 'tar';
  dest: string;
  /** Where an archive goes when dest is '-'. */
  stream?: Writable;
}

/** Runs RUN steps: a container on the step's snapshot, its output to the builder as it comes. */
class RuntimeExecutor implements Executor {
  private net: NetworkService | undefined;

  constructor(
    private readonly images: ImageService,
    private readonly runtime: Runtime,
    private readonly root: string,
    private readonly runroot: string,
  ) {}

  /** The step's place on the default bridge; `cleanup` gets what gives it back. Returns its netns. */
  private async joinBridge(id: string, cleanup: (() => void)[]): Promise<string> {
    const { NetworkService } = await import('./networks.js');
    const net = (this.net ??= new NetworkService({ root: this.root, runroot: this.runroot }));
    const def = net.ensureDefault();
    const { endpoint } = net.allocate(def.Id, { id, name: id });
    cleanup.push(() => net.release(id));
    cleanup.push(() => net.down(id));
    await net.up({ id, name: id, settings: { Networks: { [def.Name]: endpoint }, Ports: [] } });
    return net.netnsPath(id);
  }

  async run(req: RunRequest): Promise<number> {
    // The build's pid is in the id: a build killed mid-step leaves what the next one cleans.
    const id = `build-${randomBytes(12).toString('hex')}-p${process.pid}`;
    const bundle = join(this.runroot, 'build', id);
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    const cleanup: (() => void)[] = [];
    try {
      const mounts: Mount[] = req.mounts.map((m) =>
        m.type === 'tmpfs'
          ? { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] }
          : bindMount(m.source!, { destination: m.destination, readOnly: m.readonly === true, propagation: [] }),
      );
      // On the bridge: a namespace of the step's own, joined to berth's default network for the
      // step (as Docker's builds), with the host's resolvers (a localhost one cannot be reached
      // from there). Where the image has an /etc/resolv.conf, the step sees that text bound over
      // it (not written into the layer).
      let netnsPath: string | undefined;
      if (req.network === 'bridge') {
        netnsPath = await this.joinBridge(id, cleanup);
        const hasResolv = await this.images.withSnapshot(req.snapshot, false, (dir) => {
          try {
            return lstatSync(secureJoin(dir, '/etc/resolv.conf')).isFile();
          } catch {
            return false;
          }
        });
        if (hasResolv) {
          const file = join(bundle, 'resolv.conf');
          writeFileSync(file, resolvConf({ host: hostResolvText() }));
          mounts.push(bindMount(file, { destination: '/etc/resolv.conf', readOnly: false, propagation: [] }));
        }
      }
      const { spec } = buildSpec({ image: '', command: req.args, entrypoint: [], env: req.env, workdir: req.cwd, network: req.network, netnsPath, resolvedMounts: mounts }, { config: {} }, id, () => 0);
      // A user given (by name or id): looked up in the step's own /etc/passwd and /etc/group.
      if (req.user) {
        spec.process!.user = await this.images.withSnapshot(req.snapshot, false, (dir) => resolveUserIn(dir, req.user));
      }
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      const m = this.images.snapshots.mounts(req.snapshot)[0]!;
      const outFile = join(bundle, 'output');
      const fd = openSync(outFile, 'w+');
      let offset = 0;
      const buf = Buffer.allocUnsafe(64 * 1024);
      const drain = () => {
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, offset);
          if (n <= 0) break;
          offset += n;
          req.onOutput(Buffer.from(buf.subarray(0, n)));
        }
      };
      const timer = setInterval(drain, 100);
      try {
        // Canceled: the step's process is killed (the rest of its pid namespace goes with it).
        let pid = 0;
        const kill = () => {
          if (pid > 0) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* ended */
            }
          }
        };
        req.signal?.addEventListener('abort', kill);
        try {
          const r = await this.runtime.run(id, {
            bundle,
            stdio: ['ignore', fd, fd],
            rootfsMount: { type: m.type, source: m.source, options: m.options },
            onStart: (p) => {
              pid = p;
              if (req.signal?.aborted) kill();
            },
          });
          return r.code;
        } finally {
          req.signal?.removeEventListener('abort', kill);
        }
      } finally {
        clearInterval(timer);
        drain();
        closeSync(fd);
      }
    } finally {
      for (const undo of cleanup.reverse()) undo();
      rmSync(bundle, { recursive: true, force: true });
    }
  }
}

/** An image by reference or id; a reference that is not here is pulled (FROM of a missing base image). */
async function imageOrPull(images: ImageService, ref: string): Promise<ImageRecord> {
  try {
    return images.resolve(ref);
  } catch (e) {
    if (!isBerthError(e, 'NotFound') || /^(sha256:)?[0-9a-f]{64}$/.test(ref)) throw e;
  }
  await images.pull({ ref });
  return images.resolve(ref);
}

function backend(images: ImageService, o: { root: string; runroot: string }): BuildBackend {
  const runtime = new Runtime({ root: join(o.runroot, 'runtime') });
  return {
    resolveImage: async (ref) => {
      const rec = await imageOrPull(images, ref);
      return { id: rec.id, config: images.config(rec), layers: rec.layers };
    },
    snapshots: images.snapshots,
    mount: (key, writable, fn) => images.withSnapshot(key, writable, fn),
    commitLayer: (key, diffIds) => images.commitSnapshotLayer(key, diffIds),
    hasLayer: (l) => images.snapshots.hasLayer(l.chainId) && images.content.info(l.digest) !== undefined,
    storeImage: (config: ImageConfig, layers, tags) => {
      const rec = images.storeImage({ config, layers });
      for (const t of tags) images.tag(rec.id, t);
      return rec.id;
    },
    secureJoin,
    extractArchive: (root, dest, archive, what) => extractArchiveFile(archive, root, dest, what, { sameOwner: true }),
    executor: new RuntimeExecutor(images, runtime, o.root, o.runroot),
    cacheDir: join(o.root, 'buildcache'),
    defaultArch: goArch(),
  };
}

/** The pid a build's step container or snapshot was named for ("...-pPID"), if any. */
function ownerPid(name: string): number | undefined {
  const m = /^build-.*-p(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}


/**
 * What builds killed before they cleaned up left behind: their steps' containers (processes,
 * cgroups, runtime state), bundles, network namespaces and addresses, and snapshots. Each is named
 * for the build's pid; those of builds still running are left alone.
 */
export async function cleanStaleBuilds(images: ImageService, o: { root: string; runroot: string }): Promise<void> {
  const stale = (name: string) => {
    const pid = ownerPid(name);
    return pid !== undefined && pid !== process.pid && !processAlive(pid);
  };
  const runtime = new Runtime({ root: join(o.runroot, 'runtime') });
  // Names only (every build starts with this): the state of a step is read only when it is stale.
  const rtDir = join(o.runroot, 'runtime');
  const steps = (existsSync(rtDir) ? readdirSync(rtDir) : []).filter(stale);
  const bundles = join(o.runroot, 'build');
  for (const n of existsSync(bundles) ? readdirSync(bundles) : []) if (stale(n) && !steps.includes(n)) steps.push(n);
  let net: NetworkService | undefined;
  for (const id of steps) {
    await runtime.delete(id, true).catch(() => {});
    // A step killed before its state was written leaves its directory alone: it goes too.
    if (!runtime.exists(id)) rmSync(join(rtDir, id), { recursive: true, force: true });
    if (existsSync(join(o.runroot, 'net', `${id}.json`))) {
      const { NetworkService } = await import('./networks.js');
      net ??= new NetworkService({ root: o.root, runroot: o.runroot });
      net.down(id);
      net.release(id);
    }
    rmSync(join(bundles, id), { recursive: true, force: true });
  }
  for (const key of images.snapshots.listSnapshots()) if (stale(key)) images.snapshots.remove(key);
}

/** Builds a Dockerfile; the image is stored (and tagged) only when every step succeeded. */
export async function buildImage(images: ImageService, o: { root: string; runroot: string }, opts: BuildOptions): Promise<BuildResult> {
  await cleanStaleBuilds(images, o);
  // Tags are checked before anything runs.
  for (const t of opts.tags ?? []) {
    const ref = parseReference(t);
    if (ref.digest) throw invalidArgument(`invalid tag ${JSON.stringify(t)}: a tag cannot hold a digest`);
  }
  // Layers made by its steps are kept by the build cache's records only once written: no gc meanwhile.
  return images.writing(() => new Builder(backend(images, o), opts).build());
}

/** Writes a built image where --output says: an OCI or Docker archive, or its files in a directory. */
export async function exportBuilt(images: ImageService, id: string, out: BuildOutput): Promise<void> {
  if (out.type === 'oci' || out.type === 'docker') {
    const { saveArchive } = await import('./archive.js');
    const file = out.dest === '-' ? undefined : out.dest;
    // The archive's pipeline ends the destination.
    await saveArchive(images, [id], out.stream ?? createWriteStream(out.dest), { format: out.type === 'oci' ? 'oci-archive' : 'docker-archive', file });
    return;
  }
  // local (a directory) or tar (the file system as one tar): the image's merged layers.
  const rec = images.resolve(id);
  const key = `build-out-${randomBytes(8).toString('hex')}`;
  images.snapshots.prepare(key, rec.layers[rec.layers.length - 1]?.chainId);
  try {
    if (out.type === 'local') {
      const existed = existsSync(out.dest);
      mkdirSync(out.dest, { recursive: true });
      try {
        // The built tree through rooted sessions: its links copied as links into the directory.
        await images.withSnapshot(key, false, (dir) => withRooted(dir, (img) => withRooted(out.dest, (to) => copyTree(img, '/', to, '/', { name: '', what: `build --output ${out.dest}` }))));
      } catch (e) {
        if (!existed) rmSync(out.dest, { recursive: true, force: true });
        throw e;
      }
    } else {
      const stream = await images.exportSnapshot(key);
      const dest = out.stream ?? createWriteStream(out.dest);
      try {
        await pipeline(stream, dest);
      } catch (e) {
        if (!out.stream) rmSync(out.dest, { force: true });
        throw e;
      }
    }
  } finally {
    images.snapshots.remove(key);
  }
}

/** `builder prune`: forgets the build cache; the layers only it kept go with the next gc. */
export function pruneBuildCache(images: ImageService, root: string): { records: number; reclaimed: number } {
  const records = new BuildCache(join(root, 'buildcache')).prune();
  const { bytes } = images.gc();
  return { records, reclaimed: bytes };
}
