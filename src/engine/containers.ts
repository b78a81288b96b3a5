/**
 * Containers: the service the CLI (and every other front end) calls. Each use case lives in a
 * file of its own under containers/, by concern:
 *   types.ts       the record and the options of create and run
 *   request.ts     a ContainerCreateRequest (Docker's Config, HostConfig, NetworkingConfig) → create's options
 *   store.ts       the records and names: find, list, a read brought up to date, locked changes
 *   context.ts     what the parts share: runtime, volumes, images, networks, a container's paths
 *   create.ts      create: name, address, volumes, layer, bundle, record (undone on failure)
 *   etc.ts         /etc/hostname, hosts, resolv.conf and --link
 *   lifecycle.ts   start, run, stop, kill, wait, restart, attach, rm, prune
 *   restart.ts     restart policies and the monitor's cleanup
 *   health.ts      health checks
 *   exec.ts        exec, top, resource updates
 *   files.ts       diff, commit, export, cp
 *   inspect.ts     inspect (Docker's shape), port
 *   networking.ts  network connect and disconnect
 *   logs.ts        logs
 * The image's layers are the container's root; the spec follows Docker's defaults (container-spec.ts).
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Runtime } from '../runtime/index.js';
import type { VolumeStore } from '../volume/index.js';
import type { ImageService } from './images.js';
import type { NetworkService } from './networks.js';
import { ContainerContext } from './containers/context.js';
import { create } from './containers/create.js';
import { commit, copyIn, copyOut, diff, exportFs, type CommitOptions, type CopyOptions } from './containers/files.js';
import { healthcheck } from './containers/health.js';
import { exec, top, updateResources, type ContainerTop, type ExecRequest } from './containers/exec.js';
import { inspect, ports } from './containers/inspect.js';
import { attach, kill, pause, prune, remove, restart, run, start, stop, unpause, wait, type StopOptions } from './containers/lifecycle.js';
import { connect, disconnect } from './containers/networking.js';
import { cleanup } from './containers/restart.js';
import { createOptionsOf } from './containers/request.js';
import type { ContainerRecord, ContainerStdio } from './containers/types.js';
import type { ContainerCreateRequest, ContainerInspect, ExecConfig, RestartPolicy } from './models.js';
import { invalidArgument, isBerthError, notFound } from '../lib/errors.js';
import { familiarName, parseReference } from '../image/index.js';
import type { ProgressMessage } from './registry.js';

/** How `run` starts what it created: detached, or attached to the caller's streams and told its pid. */
export interface ContainerRunOptions extends ContainerCreateOptions {
  detach?: boolean;
  stdio?: ContainerStdio;
  onStart?: (pid: number) => void;
  /** Told the container's id once it is created, before it starts (docker run -d prints it then). */
  onCreate?: (id: string) => void;
}

export interface ContainerCreateOptions {
  /** The progress of pulling the image (when the request's pull policy pulls it). */
  onPull?: (m: ProgressMessage) => void;
}

export { DOCKER_DEFAULT_CAPS } from './container-spec.js';
export type { ContainerRecord, ContainerState, ContainerStdio, CreateOptions, LogRecord, MountRecord, RunOptions, TerminalSize } from './containers/types.js';
export { dockerStatus } from './containers/types.js';
export { createOptionsOf } from './containers/request.js';
export { readLogs, type LogsOptions } from './containers/logs.js';
export type { ContainerTop } from './containers/exec.js';
export { restartPolicyOf } from './containers/restart.js';

export class ContainerService {
  private readonly c: ContainerContext;
  readonly runtime: Runtime;
  readonly volumes: VolumeStore;

  constructor(images: ImageService, opts: { root: string; runroot: string }) {
    this.c = new ContainerContext(images, opts);
    this.runtime = this.c.runtime;
    this.volumes = this.c.volumes;
  }

  /** The network service, loaded when a container or command needs it. */
  networks(): Promise<NetworkService> {
    return this.c.networks();
  }

  // Records
  list(): ContainerRecord[] {
    return this.c.store.list();
  }
  find(nameOrId: string): ContainerRecord {
    return this.c.store.find(nameOrId);
  }
  /** Whether a container (of any state) has this id (network prune returns others' addresses). */
  exists(id: string): boolean {
    return this.c.store.exists(id);
  }
  /**
   * Whether an endpoint (container id, name) on a network belongs to no container: none has the
   * id and no live process is making one under that name (a berth killed half-way left it).
   */
  orphanEndpoint(id: string, name: string): boolean {
    return !this.c.store.exists(id) && !this.c.store.names.heldAlive(name, id);
  }
  /** Ids of running containers (network prune leaves their namespaces alone). */
  isRunning(id: string): boolean {
    return this.c.store.isRunning(id);
  }
  /** Image ids containers use (for rmi). */
  imagesInUse(): Map<string, string> {
    return this.c.store.imagesInUse();
  }
  /** Ids of the containers that mount a volume. */
  volumeUsers(name: string): string[] {
    return this.c.store.volumeUsers(name);
  }
  rename(nameOrId: string, name: string): void {
    this.c.store.rename(nameOrId, name);
  }

  // Life
  /**
   * The image of a create or run, pulled as its `pull` policy says: always, when it is not here
   * (missing, the default), or never (then a missing image is `No such image`).
   */
  private async ensureImage(req: ContainerCreateRequest, o: ContainerCreateOptions): Promise<void> {
    const image = req.Config?.Image;
    if (!image) return;
    const policy = req.pull ?? 'missing';
    if (policy !== 'always' && policy !== 'missing' && policy !== 'never') throw invalidArgument(`invalid pull option: '${String(policy)}': must be one of "always", "missing" or "never"`);
    if (policy !== 'always') {
      try {
        this.c.images.resolve(image);
        return;
      } catch (e) {
        if (!isBerthError(e, 'NotFound')) throw e;
      }
      // An id (or an id prefix) that is not here is not something to pull.
      if (/^(sha256:)?[0-9a-f]{64}$/.test(image)) throw notFound(`No such image: ${image}`);
      const name = familiarName(parseReference(image));
      if (policy === 'never') throw notFound(`No such image: ${name}`);
      o.onPull?.({ status: `Unable to find image '${name}' locally` });
    }
    await this.c.images.pull({ ref: image, platform: req.platform, onMessage: o.onPull });
  }

  /** `create`: a container as the request (Docker's Config, HostConfig, NetworkingConfig) asks. */
  async create(req: ContainerCreateRequest, o: ContainerCreateOptions = {}): Promise<ContainerRecord> {
    const opts = createOptionsOf(req);
    await this.ensureImage(req, o);
    return create(this.c, opts);
  }
  start(nameOrId: string, opts: { attach?: boolean; tty?: boolean; stdio?: ContainerStdio; onStart?: (pid: number) => void } = {}): Promise<{ code: number; oomKilled: boolean }> {
    return start(this.c, nameOrId, opts);
  }
  /**
   * `run`: create as the request asks, and start; attached to `stdio` until it ends (removed then
   * with HostConfig.AutoRemove), or detached under its monitor.
   */
  async run(req: ContainerCreateRequest, o: ContainerRunOptions = {}): Promise<{ id: string; code: number; oomKilled: boolean }> {
    const opts = createOptionsOf(req);
    await this.ensureImage(req, o);
    return run(this.c, { ...opts, rm: req.HostConfig?.AutoRemove === true, detach: o.detach === true, stdio: o.stdio, onStart: o.onStart, onCreate: o.onCreate });
  }
  /** `stop`: the signal (the container's stop signal), then SIGKILL after the timeout (its stop timeout, 10 s). */
  stop(nameOrId: string, o: StopOptions = {}): Promise<void> {
    return stop(this.c, nameOrId, o);
  }
  /** `kill`: a signal, by name ("USR1", "SIGUSR1") or number; SIGKILL by default. */
  kill(nameOrId: string, signal: string | number = 'SIGKILL'): ContainerRecord {
    return kill(this.c, nameOrId, signal);
  }
  wait(nameOrId: string): Promise<number> {
    return wait(this.c, nameOrId);
  }
  restart(nameOrId: string, o: StopOptions = {}): Promise<void> {
    return restart(this.c, nameOrId, o);
  }
  attach(nameOrId: string): Promise<{ id: string; socket: Socket; tty: boolean; openStdin: boolean }> {
    return attach(this.c, nameOrId);
  }
  remove(nameOrId: string, force = false, removeVolumes = false): Promise<string> {
    return remove(this.c, nameOrId, force, removeVolumes);
  }
  prune(): Promise<string[]> {
    return prune(this.c);
  }
  /** What the monitor runs when a detached container ended (its restart policy, --rm). */
  cleanup(nameOrId: string, netToken?: string): Promise<void> {
    return cleanup(this.c, nameOrId, netToken);
  }
  /** What the monitor runs every health interval. */
  healthcheck(nameOrId: string): Promise<void> {
    return healthcheck(this.c, nameOrId);
  }

  // Processes and cgroup
  /**
   * `exec`: Docker's ExecConfig (Cmd, Env, WorkingDir, User, Tty), started attached to the caller's
   * streams, or detached (ExecStartConfig's Detach); the process's exit code.
   */
  exec(nameOrId: string, config: ExecConfig, o: { detach?: boolean; stdio?: ContainerStdio; onStart?: (pid: number) => void } = {}): Promise<number> {
    if (config.Privileged) throw invalidArgument('exec --privileged is not supported');
    return exec(this.c, nameOrId, { command: config.Cmd ?? [], env: config.Env ?? undefined, workdir: config.WorkingDir || undefined, user: config.User || undefined, tty: config.Tty === true, detach: o.detach === true, stdio: o.stdio, onStart: o.onStart });
  }
  /** `top`: the host's ps (its arguments as given, `-ef` by default) on the container's processes. */
  top(nameOrId: string, psArgs?: string): ContainerTop {
    return top(this.c, nameOrId, psArgs);
  }
  /** `stats --no-stream`: usage read from the container's cgroup. */
  stats(nameOrId: string) {
    const rec = this.c.store.running(nameOrId);
    return { rec, stats: this.c.runtime.stats(rec.Id) };
  }
  update(nameOrId: string, o: { memory?: string; cpus?: string; cpuShares?: number; pidsLimit?: number; restart?: RestartPolicy }): void {
    updateResources(this.c, nameOrId, o);
  }
  pause(nameOrId: string): void {
    pause(this.c, nameOrId);
  }
  unpause(nameOrId: string): void {
    unpause(this.c, nameOrId);
  }

  // Details, networks, files
  /** `inspect`: the record in Docker's shape (models.ts' ContainerInspect). */
  inspect(nameOrId: string): ContainerInspect {
    return inspect(this.c, nameOrId);
  }
  ports(nameOrId: string): { hostIp: string; hostPort: number; containerPort: number; proto: 'tcp' | 'udp' }[] {
    return ports(this.c, nameOrId);
  }
  connect(network: string, nameOrId: string, o: { ip?: string; aliases?: string[] } = {}): Promise<void> {
    return connect(this.c, network, nameOrId, o);
  }
  disconnect(network: string, nameOrId: string): Promise<void> {
    return disconnect(this.c, network, nameOrId);
  }
  diff(nameOrId: string): Promise<{ kind: string; path: string }[]> {
    return diff(this.c, nameOrId);
  }
  commit(nameOrId: string, o: CommitOptions = {}): Promise<string> {
    return commit(this.c, nameOrId, o);
  }
  exportFs(nameOrId: string): Promise<Readable> {
    return exportFs(this.c, nameOrId);
  }
  copyOut(nameOrId: string, path: string, dest: string | undefined, out?: NodeJS.WritableStream, o: CopyOptions = {}): Promise<void> {
    return copyOut(this.c, nameOrId, path, dest, out, o);
  }
  copyIn(nameOrId: string, src: string | undefined, path: string, input?: Buffer, o: CopyOptions = {}): Promise<void> {
    return copyIn(this.c, nameOrId, src, path, input, o);
  }
}
