/**
 * What every part of the container service shares: the records, the runtime, the volumes, the
 * image service (layers), the network service (loaded when a container needs it), and where a
 * container's files are: its bundle (runroot/containers/ID: config.json, status, attach socket,
 * /etc files) and its log (root/containers/ID).
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { failedPrecondition } from '../../lib/errors.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { Runtime } from '../../runtime/index.js';
import { runFsOps } from '../../sys/fsops.js';
import { VolumeStore } from '../../volume/index.js';
import type { ImageService } from '../images.js';
import type { NetworkService } from '../networks.js';
import { ContainerStore } from './store.js';
import type { ContainerRecord } from './types.js';

const MS_BIND = 4096;
const MS_REC = 16384;
const MNT_DETACH = 2;

export type RootfsMount = { type: string; source: string; options: string[] };

export class ContainerContext {
  readonly store: ContainerStore;
  readonly runtime: Runtime;
  readonly volumes: VolumeStore;
  private net: NetworkService | undefined;

  constructor(
    readonly images: ImageService,
    readonly opts: { root: string; runroot: string },
  ) {
    this.runtime = new Runtime({ root: join(opts.runroot, 'runtime') });
    this.volumes = new VolumeStore(join(opts.root, 'volumes'));
    this.store = new ContainerStore(opts.root, (id) => this.statusFile(id), (rec) => {
      if (rec.IdShift) void this.unmountRootfs(rec.Id);
      // The runtime's state and cgroup go as soon as someone sees it ended.
      if (this.runtime.exists(rec.Id)) void this.runtime.delete(rec.Id, true).catch(() => {});
    });
  }

  /** The network service, loaded when a container or command needs it. */
  async networks(): Promise<NetworkService> {
    if (!this.net) {
      const { NetworkService } = await import('../networks.js');
      this.net = new NetworkService(this.opts);
    }
    return this.net;
  }

  bundleDir(id: string): string {
    return join(this.opts.runroot, 'containers', id);
  }

  /** Where the monitor writes how the container ended. */
  statusFile(id: string): string {
    return join(this.bundleDir(id), 'status');
  }

  attachSocket(id: string): string {
    return join(this.bundleDir(id), 'attach');
  }

  /** The directory of the container's log (json.log). */
  logDir(id: string): string {
    return join(this.opts.root, 'containers', id);
  }

  /** The container's OCI spec as create wrote it. */
  spec(id: string): Spec {
    return JSON.parse(readFileSync(join(this.bundleDir(id), 'config.json'), 'utf8')) as Spec;
  }

  /**
   * The container's root file system as the runtime mounts it. A remapped container's overlay is
   * mounted here, on the host, by berth (an overlay mounted inside a user namespace loses what
   * trusted xattrs say); the container binds it, and it is unmounted when the container ends.
   */
  async rootfsMount(rec: ContainerRecord): Promise<RootfsMount> {
    const m = this.images.snapshots.mounts(rec.Id)[0]!;
    if (!rec.IdShift) return { type: m.type, source: m.source, options: m.options };
    // The remapped root is nobody on the host: every directory above its bundle and above what it
    // binds must let others through.
    const spec = this.spec(rec.Id);
    const binds = (spec.mounts ?? []).filter((x) => x.type === 'bind' && x.source).map((x) => dirname(x.source!));
    for (const top of [this.bundleDir(rec.Id), ...binds]) {
      for (let d = top; d !== dirname(d); d = dirname(d)) {
        const st = statSync(d);
        if (!(st.mode & 0o001)) throw failedPrecondition(`--userns=remap: ${JSON.stringify(d)} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}) does not let others search it, so the container's remapped root cannot reach its files: chmod o+x it`);
      }
    }
    const merged = join(this.bundleDir(rec.Id), 'merged');
    await this.unmountRootfs(rec.Id);
    mkdirSync(merged, { recursive: true });
    if (m.type === 'overlay') await runFsOps([{ op: 'mount', source: 'overlay', target: merged, fstype: 'overlay', data: m.options.join(',') }]);
    else await runFsOps([{ op: 'mount', source: m.source, target: merged, fstype: 'bind', flags: MS_BIND | MS_REC }]);
    return { type: 'bind', source: merged, options: [] };
  }

  /** Unmounts what rootfsMount mounted on the host, if it is there. */
  async unmountRootfs(id: string): Promise<void> {
    const merged = join(this.bundleDir(id), 'merged');
    if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${merged} `)) return;
    await runFsOps([{ op: 'umount', target: merged, flags: MNT_DETACH }]).catch(() => {});
  }
}
