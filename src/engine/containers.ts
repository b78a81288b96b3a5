/**
 * Containers: create, start (attached or under a monitor), run, stop, kill, wait, exec, logs,
 * inspect, diff, commit, export, top, stats, pause, rename, rm, prune. The image's layers are the
 * container's root; the spec follows Docker's defaults (container-spec.ts).
 */
import { randomBytes } from '../lib/builtins.js';
import { withLock } from '../sys/lock.js';
import { mark } from '../lib/timing.js';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { secureJoin } from '../sys/securejoin.js';
import { join } from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { conflict, failedPrecondition, invalidArgument, notFound } from '../lib/errors.js';
import { parseBytes } from '../lib/units.js';
import type { Spec } from '../oci/runtime-spec.js';
import { Runtime } from '../runtime/index.js';
import { bindMount, buildSpec, parseVolumeSpec, resolveUser, type ContainerOptions } from './container-spec.js';
import { VolumeStore } from '../volume/index.js';
export { DOCKER_DEFAULT_CAPS } from './container-spec.js';
import { readJsonRecords, writeFileAtomic } from '../sys/fs.js';
import { connectAttach } from '../sys/attach.js';
import { NameIndex, validName } from './names.js';
import { runFsOps } from '../sys/fsops.js';

const MS_BIND = 4096;
const MS_REC = 16384;
const MNT_DETACH = 2;
import type { Socket } from 'node:net';
import { berthCli, helperPath } from '../sys/paths.js';
import { processAlive } from '../sys/proc.js';
import { parseExitStatus } from '../sys/exit-status.js';
import type { ImageService } from './images.js';
import type { NetworkService, NetworkSettings } from './networks.js';


export interface ContainerRecord {
  Id: string;
  Name: string;
  Image: string;
  ImageID: string;
  Command: string[];
  Created: string;
  State: { Status: 'created' | 'running' | 'exited'; ExitCode: number; Pid: number; StartedAt: string; FinishedAt: string; OOMKilled: boolean; MonitorPid?: number };
  AutoRemove: boolean;
  Detached?: boolean;
  LogPath?: string;
  StopSignal?: string;
  StopTimeout?: number;
  Mounts?: MountRecord[];
  RestartPolicy?: { Name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; MaximumRetryCount: number };
  RestartCount?: number;
  /** Set by stop/kill, cleared by start: a stopped container is not restarted by its policy. */
  ManuallyStopped?: boolean;
  Healthcheck?: { Test: string[]; IntervalMs: number; TimeoutMs: number; Retries: number; StartPeriodMs: number };
  Health?: { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] };
  /** --network as given (none, host, container:NAME, or a network's name). */
  NetworkMode?: string;
  /** Containers on networks: endpoints, published ports (as asked; `PortsUp`: as taken at start). */
  NetworkSettings?: NetworkSettings;
  PortsUp?: NetworkSettings['Ports'];
  /** Which start set its network up (cleanup tears down only that one). */
  NetToken?: string;
  /** -t: a terminal (held by the monitor when detached). */
  Tty?: boolean;
  /** -i: stdin kept open (to attach to, when detached). */
  OpenStdin?: boolean;
  /** --link, as Docker's HostConfig.Links: "/db:/web/webdb" */
  Links?: string[];
  /** --userns=remap: the host ids the container's 0.. are (its layers are owned so). */
  IdShift?: { uid: number; gid: number; size: number };
}

export interface MountRecord {
  Type: 'bind' | 'volume';
  Name?: string;
  Source: string;
  Destination: string;
  RW: boolean;
  Anonymous?: boolean;
  NoCopy?: boolean;
}

export interface LogRecord {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

export interface CreateOptions extends ContainerOptions {
  volumesFrom?: string[];
  /** `run -d --rm`: removed (with its anonymous volumes) by its monitor's cleanup when it ends. */
  autoRemove?: boolean;
  /** --health-*: a command (shell form) checked every interval; `none` turns the image's off. */
  health?: { cmd?: string; none?: boolean; intervalMs?: number; timeoutMs?: number; retries?: number; startPeriodMs?: number };
  /** no, always, unless-stopped, on-failure[:N] */
  restart?: string;
  /** `--init` */
  withInit?: boolean;
  /** -p [ip:]hostPort:containerPort[/proto], ranges; -P: the image's EXPOSEd ports. */
  publish?: string[];
  publishAll?: boolean;
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  networkAlias?: string[];
  /** --ip on a user-defined network */
  ip?: string;
  /** --mac-address: of the container's interface on its (first) network */
  macAddress?: string;
  /** --link NAME[:ALIAS] (Docker's legacy links): /etc/hosts entries and environment variables */
  link?: string[];
  /** -t: a terminal for the container. */
  tty?: boolean;
  /** -i: its stdin kept open. */
  interactive?: boolean;
}

export interface RunOptions extends CreateOptions {
  rm?: boolean;
  detach?: boolean;
  stdio?: StdioOptions;
  onStart?: (pid: number) => void;
}

const ADJ = ['brave', 'calm', 'eager', 'fond', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'quiet', 'sharp', 'sunny', 'tidy', 'vivid', 'witty', 'zen'];
const NOUN = ['albatross', 'barge', 'buoy', 'canal', 'dinghy', 'ferry', 'harbor', 'jetty', 'keel', 'lighthouse', 'mooring', 'pier', 'quay', 'rudder', 'schooner', 'tug'];

/** A remapped container's id shift, as its spec's user namespace maps ids (buildSpec's --userns). */
function idShiftOf(spec: Spec): { IdShift: { uid: number; gid: number; size: number } } | Record<string, never> {
  const u = spec.linux?.uidMappings?.[0];
  const g = spec.linux?.gidMappings?.[0];
  return u && g ? { IdShift: { uid: u.hostID, gid: g.hostID, size: u.size } } : {};
}

export class ContainerService {
  private readonly dir: string;
  private net: NetworkService | undefined;
  private readonly names: NameIndex;
  readonly runtime: Runtime;
  readonly volumes: VolumeStore;

  constructor(
    private readonly images: ImageService,
    private readonly opts: { root: string; runroot: string },
  ) {
    this.dir = join(opts.root, 'metadata', 'containers');
    this.names = new NameIndex(join(opts.root, 'metadata', 'names'), (id) => existsSync(join(this.dir, id + '.json')));
    this.runtime = new Runtime({ root: join(opts.runroot, 'runtime') });
    this.volumes = new VolumeStore(join(opts.root, 'volumes'));
  }

  /** The network service, loaded when a container or command needs it. */
  async networks(): Promise<NetworkService> {
    if (!this.net) {
      const { NetworkService } = await import('./networks.js');
      this.net = new NetworkService(this.opts);
    }
    return this.net;
  }

  list(): ContainerRecord[] {
    const out = readJsonRecords<ContainerRecord>(this.dir);
    for (const rec of out) if (rec.State.Status === 'running') this.refresh(rec);
    return out.sort((a, b) => b.Created.localeCompare(a.Created));
  }

  private statusFile(id: string): string {
    return join(this.bundleDir(id), 'status');
  }

  /**
   * The truth about a container recorded as running: its monitor wrote how it ended, or its
   * process is gone without a word (the monitor was killed, the host restarted): exited.
   */
  private refresh(rec: ContainerRecord): void {
    let ended: string | undefined;
    try {
      ended = readFileSync(this.statusFile(rec.Id), 'utf8').trim().split('\n').pop();
    } catch {
      ended = undefined;
    }
    const end = ended ? parseExitStatus(ended) : undefined;
    if (end) {
      rec.State = { ...rec.State, Status: 'exited', ExitCode: end.code, FinishedAt: end.finishedAt ?? new Date().toISOString() };
    } else if (!processAlive(rec.State.Pid) && !(rec.State.MonitorPid && processAlive(rec.State.MonitorPid))) {
      // Neither the process nor its monitor (which would have said how it ended) is there.
      rec.State = { ...rec.State, Status: 'exited', ExitCode: rec.State.ExitCode || 255, FinishedAt: rec.State.FinishedAt || new Date().toISOString() };
    } else return;
    // Not when it was removed meanwhile (rm, and a monitor's cleanup reading it at the same time):
    // checked and written under the record's lock, which rm takes to delete it.
    const removed = withLock(this.recordLock(rec.Id), () => {
      if (!existsSync(join(this.dir, rec.Id + '.json'))) return true;
      this.save(rec);
      return false;
    });
    if (removed) return;
    if (rec.IdShift) void this.unmountRootfs(rec.Id);
    // The runtime's state and cgroup go as soon as someone sees it ended.
    if (this.runtime.exists(rec.Id)) void this.runtime.delete(rec.Id, true).catch(() => {});
  }

  /** Image ids containers use (for rmi). */
  imagesInUse(): Set<string> {
    return new Set(this.list().map((c) => c.ImageID));
  }

  /** A record by id, refreshed; undefined when there is none. */
  private read(id: string): ContainerRecord | undefined {
    let rec: ContainerRecord;
    try {
      rec = JSON.parse(readFileSync(join(this.dir, id + '.json'), 'utf8')) as ContainerRecord;
    } catch {
      return undefined;
    }
    if (rec.State.Status === 'running') this.refresh(rec);
    return rec;
  }

  find(nameOrId: string): ContainerRecord {
    // A full id or a name: one file, not the whole list.
    const id = /^[0-9a-f]{64}$/.test(nameOrId) ? nameOrId : this.names.lookup(nameOrId);
    const direct = id !== undefined ? this.read(id) : undefined;
    if (direct && (direct.Id === nameOrId || direct.Name === nameOrId)) return direct;
    const all = this.list();
    const exact = all.find((r) => r.Name === nameOrId || r.Id === nameOrId);
    if (exact) return exact;
    const byPrefix = /^[0-9a-f]+$/.test(nameOrId) ? all.filter((r) => r.Id.startsWith(nameOrId)) : [];
    if (byPrefix.length > 1) throw invalidArgument(`container id prefix ${JSON.stringify(nameOrId)} is ambiguous`);
    if (!byPrefix[0]) throw notFound(`No such container: ${nameOrId}`);
    return byPrefix[0];
  }

  /** The lock between writing a refreshed record and removing it (not a .json: list() skips it). */
  private recordLock(id: string): string {
    return join(this.dir, `${id}.lock`);
  }

  private save(rec: ContainerRecord): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, rec.Id + '.json'), JSON.stringify(rec));
  }

  private bundleDir(id: string): string {
    return join(this.opts.runroot, 'containers', id);
  }

  /**
   * The container's root file system as the runtime mounts it. A remapped container's overlay is
   * mounted here, on the host, by berth (an overlay mounted inside a user namespace loses what
   * trusted xattrs say); the container binds it, and it is unmounted when the container ends.
   */
  private async rootfsMount(rec: ContainerRecord): Promise<{ type: string; source: string; options: string[] }> {
    const m = this.images.snapshots.mounts(rec.Id)[0]!;
    if (!rec.IdShift) return { type: m.type, source: m.source, options: m.options };
    // The remapped root is nobody on the host: every directory above its bundle and above what it
    // binds must let others through.
    const spec = JSON.parse(readFileSync(join(this.bundleDir(rec.Id), 'config.json'), 'utf8')) as Spec;
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
  private async unmountRootfs(id: string): Promise<void> {
    const merged = join(this.bundleDir(id), 'merged');
    if (!readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${merged} `)) return;
    await runFsOps([{ op: 'umount', target: merged, flags: MNT_DETACH }]).catch(() => {});
  }

  private attachSocket(id: string): string {
    return join(this.bundleDir(id), 'attach');
  }

  /**
   * `attach`: a connection to a running container's monitor: its output as frames (stream 1 or
   * 2), and input, terminal size and end of input as frames back (src/sys/attach.ts).
   */
  async attach(nameOrId: string): Promise<{ id: string; socket: Socket; tty: boolean; openStdin: boolean }> {
    const rec = this.find(nameOrId);
    if (rec.State.Status !== 'running') throw failedPrecondition(`You cannot attach to a stopped container, start it first`);
    if (!rec.Detached) throw failedPrecondition(`container ${rec.Name} runs in the foreground of another berth process: attach to it there`);
    let socket: Socket;
    try {
      socket = await connectAttach(this.attachSocket(rec.Id));
    } catch (e) {
      throw failedPrecondition(`attach to container ${rec.Name}: its monitor does not answer (${(e as Error).message})`);
    }
    return { id: rec.Id, socket, tty: rec.Tty === true, openStdin: rec.OpenStdin === true };
  }

  /** `run -d`: starts the container under its monitor and returns at once. */
  private async runDetached(rec: ContainerRecord, bundle: string, m: { type: string; source: string; options: string[] }): Promise<void> {
    const logDir = join(this.opts.root, 'containers', rec.Id);
    mkdirSync(logDir, { recursive: true });
    rec.LogPath = join(logDir, 'json.log');
    rec.Detached = true;
    const policy = rec.RestartPolicy?.Name ?? 'no';
    // The monitor runs berth's cleanup when the container ends: the restart policy, --rm.
    const exitCommand = policy === 'no' && !rec.AutoRemove && !rec.IdShift && !rec.NetworkSettings ? undefined : [...berthCli(), '--root', this.opts.root, '--runroot', this.opts.runroot, 'container', 'cleanup', rec.Id, ...(rec.NetToken ? [rec.NetToken] : [])];
    // The monitor joined the container's network namespace (given by path) before it started the
    // container; it runs its exit command back in its own (the host's), which the cleanup needs.
    const self = [...berthCli(), '--root', this.opts.root, '--runroot', this.opts.runroot];
    const health = rec.Healthcheck ? { intervalMs: rec.Healthcheck.IntervalMs, command: [...self, 'container', 'healthcheck', rec.Id] } : undefined;
    if (rec.Healthcheck) rec.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    const r = await this.runtime.runDetached(rec.Id, { bundle, rootfsMount: m, loopbackUp: true, log: rec.LogPath, status: this.statusFile(rec.Id), exitCommand, health, tty: rec.Tty, attach: { socket: this.attachSocket(rec.Id), openStdin: rec.OpenStdin === true } });
    rec.State = { ...rec.State, Status: 'running', Pid: r.pid, MonitorPid: r.monitorPid, StartedAt: new Date().toISOString() };
    this.save(rec);
  }

  /** Names of the containers that mount a volume. */
  volumeUsers(name: string): string[] {
    return this.list()
      .filter((c) => (c.Mounts ?? []).some((m) => m.Type === 'volume' && m.Name === name))
      .map((c) => c.Name);
  }

  /** `-v`, `--volumes-from` and the image's VOLUMEs → the container's mounts (volumes made as needed). */
  private resolveMounts(o: CreateOptions, imageVolumes: string[]): { mounts: MountRecord[]; fresh: MountRecord[] } {
    const mounts: MountRecord[] = [];
    const fresh: MountRecord[] = [];
    const taken = (dst: string) => mounts.some((m) => m.Destination === dst);
    for (const v of o.volumes ?? []) {
      const p = parseVolumeSpec(v);
      if (taken(p.destination)) throw invalidArgument(`Duplicate mount point: ${p.destination}`);
      if (p.kind === 'bind') {
        mounts.push({ Type: 'bind', Source: p.source!, Destination: p.destination, RW: !p.readOnly });
        continue;
      }
      const existed = p.source !== undefined && this.volumes.get(p.source) !== undefined;
      const vol = this.volumes.create(p.source, { anonymous: p.source === undefined });
      const m: MountRecord = { Type: 'volume', Name: vol.Name, Source: vol.Mountpoint, Destination: p.destination, RW: !p.readOnly, Anonymous: vol.Anonymous };
      mounts.push(m);
      if (p.noCopy) m.NoCopy = true;
      if (!existed || this.volumes.isEmpty(vol.Name)) fresh.push(m);
    }
    for (const from of o.volumesFrom ?? []) {
      const [name, mode] = from.split(':');
      const other = this.find(name!);
      for (const m of other.Mounts ?? []) if (!taken(m.Destination)) mounts.push({ ...m, RW: mode === 'ro' ? false : m.RW });
    }
    for (const dst of imageVolumes) {
      if (taken(dst)) continue;
      const vol = this.volumes.create(undefined, { anonymous: true });
      const m: MountRecord = { Type: 'volume', Name: vol.Name, Source: vol.Mountpoint, Destination: dst, RW: true, Anonymous: true };
      mounts.push(m);
      fresh.push(m);
    }
    return { mounts, fresh };
  }

  /**
   * `--link NAME[:ALIAS]`: the container linked to, which must exist and share the network
   * `netName` with the new one (its address there is what the entries give).
   */
  private linkTo(spec: string, netName: string): LinkTarget {
    const [name = '', alias0, extra] = spec.split(':');
    const alias = alias0 || name.replace(/^\//, '');
    if (extra !== undefined || !validName(name.replace(/^\//, '')) || !validName(alias)) throw invalidArgument(`invalid --link ${JSON.stringify(spec)}: NAME or NAME:ALIAS`);
    let other: ContainerRecord;
    try {
      other = this.find(name.replace(/^\//, ''));
    } catch {
      throw notFound(`could not get container for ${name}: No such container: ${name}`);
    }
    const ip = other.NetworkSettings?.Networks?.[netName]?.IPAddress;
    if (!ip) throw invalidArgument(`Cannot link to /${other.Name}, as it does not belong to the ${netName === 'bridge' ? 'default network' : `network ${netName}`}`);
    let env: string[] = [];
    try {
      env = (JSON.parse(readFileSync(join(this.bundleDir(other.Id), 'config.json'), 'utf8')) as { process?: { env?: string[] } }).process?.env ?? [];
    } catch {
      /* no bundle: no variables */
    }
    const exposed = Object.keys(((this.images.config(this.images.resolve(other.ImageID)).config ?? {}) as { ExposedPorts?: Record<string, unknown> }).ExposedPorts ?? {});
    const ports = [...new Set([...exposed, ...(other.NetworkSettings?.Ports ?? []).map((p) => `${p.containerPort}/${p.proto}`)])];
    return { name: other.Name, alias, id: other.Id, ip, env, ports };
  }

  /** `create`: the container's layer, bundle and record; nothing runs yet. */
  create(o: CreateOptions): Promise<ContainerRecord> {
    // A terminal gets TERM, as Docker sets it.
    return this.createContainer(o.tty ? { ...o, env: ['TERM=xterm', ...(o.env ?? [])] } : o);
  }

  private async createContainer(o: CreateOptions): Promise<ContainerRecord> {
    const image = this.images.resolve(o.image);
    const cfg = (this.images.config(image).config ?? {}) as Record<string, unknown>;
    if (o.name !== undefined && !validName(o.name)) throw invalidArgument(`Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const id = randomBytes(32).toString('hex');
    const name = o.name ?? `${ADJ[randomBytes(1)[0]! % ADJ.length]}_${NOUN[randomBytes(1)[0]! % NOUN.length]}_${id.slice(0, 4)}`;
    const mode = o.network ?? 'bridge';
    const bridged = !['none', 'host'].includes(mode) && !mode.startsWith('container:');
    // Networks: the ports and options checked (nothing made yet), then the name, then an address
    // (given back on failure).
    let net: NetworkService | undefined;
    let settings: NetworkSettings | undefined;
    let netId = '';
    let links: LinkTarget[] = [];
    if (bridged) {
      net = await this.networks();
      const ports = net.parsePorts({ publish: o.publish, publishAll: o.publishAll, exposed: Object.keys((cfg.ExposedPorts as Record<string, unknown> | undefined) ?? {}) });
      const n = net.find(mode);
      if (o.ip !== undefined && n.Name === 'bridge') throw invalidArgument('user specified IP address is supported on user defined networks only');
      if (o.macAddress !== undefined) net.parseMac(o.macAddress);
      links = (o.link ?? []).map((l) => this.linkTo(l, n.Name));
      if (o.networkAlias?.length && n.Name === 'bridge') throw invalidArgument('network-scoped alias is supported only for containers in user defined networks');
      settings = { Networks: {}, Ports: ports, Dns: o.dns, DnsSearch: o.dnsSearch, DnsOptions: o.dnsOption, ExtraHosts: o.addHost };
      net.etcFiles(settings, 'x', ''); // validates --dns and --add-host
      netId = n.Id;
    } else if (o.publish?.length || o.publishAll) {
      throw invalidArgument(`conflicting options: port publishing and the container type network mode (--network ${mode})`);
    } else if (o.ip !== undefined || o.networkAlias?.length) {
      throw invalidArgument(`--ip and --network-alias need a user-defined network (--network ${mode})`);
    } else if (o.macAddress !== undefined) {
      throw invalidArgument(`conflicting options: mac-address and the network mode (--network ${mode})`);
    } else if (o.link?.length) {
      throw invalidArgument(`conflicting options: --link and the network mode (--network ${mode})`);
    }
    this.names.claim(name, id, 'container');
    if (net && settings) {
      try {
        const a = net.allocate(netId, { id, name, ip: o.ip, aliases: o.networkAlias, mac: o.macAddress });
        settings.Networks[a.network.Name] = a.endpoint;
      } catch (e) {
        this.names.release(name, id);
        throw e;
      }
    }
    let mounts: MountRecord[], fresh: MountRecord[];
    let built;
    try {
      ({ mounts, fresh } = this.resolveMounts(o, Object.keys((cfg.Volumes as Record<string, unknown> | undefined) ?? {})));
    } catch (e) {
      net?.release(id);
      this.names.release(name, id);
      throw e;
    }
    const resolvedMounts = mounts.map((m) => bindMount(m.Source, { destination: m.Destination, readOnly: !m.RW, propagation: [] }));
    try {
      built = buildSpec({ ...o, network: mode, netnsPath: net?.netnsPath(id), resolvedMounts, init: o.withInit ? helperPath() : undefined }, { config: cfg }, id, (n) => this.running(n).State.Pid);
    } catch (e) {
      for (const m of fresh) if (m.Anonymous) this.volumes.remove(m.Name!);
      net?.release(id);
      this.names.release(name, id);
      throw e;
    }
    const { spec, args } = built;
    const rec: ContainerRecord = {
      Id: id,
      Name: name,
      Image: o.image,
      ImageID: image.id,
      Command: args,
      Created: new Date().toISOString(),
      State: { Status: 'created', ExitCode: 0, Pid: 0, StartedAt: '', FinishedAt: '', OOMKilled: false },
      StopSignal: o.stopSignal ?? (cfg.StopSignal as string | undefined),
      StopTimeout: o.stopTimeout,
      Mounts: mounts,
      AutoRemove: o.autoRemove === true,
      RestartPolicy: parseRestart(o.restart),
      RestartCount: 0,
      Healthcheck: healthcheckOf(o.health, cfg.Healthcheck as ImageHealthcheck | undefined),
      NetworkMode: mode,
      ...(links.length ? { Links: links.map((l) => `/${l.name}:/${name}/${l.alias}`) } : {}),
      ...(settings ? { NetworkSettings: settings } : {}),
      ...(o.tty ? { Tty: true } : {}),
      ...(o.interactive ? { OpenStdin: true } : {}),
      ...idShiftOf(spec),
    };
    const bundle = this.bundleDir(id);
    const top = image.layers[image.layers.length - 1];
    let prepared = false;
    try {
      this.save(rec);
      this.images.snapshots.prepare(id, top?.chainId, rec.IdShift ? { idShift: rec.IdShift } : {});
      prepared = true;
      mkdirSync(join(bundle, 'rootfs'), { recursive: true });
      // A user given by name: looked up in the image's /etc/passwd and /etc/group.
      const user = o.user ?? (cfg.User as string | undefined) ?? '';
      if (user && !/^(\d*)(:\d*)?$/.test(user)) {
        spec.process!.user = await this.images.withSnapshot(id, false, (dir) => {
          const read = (f: string) => {
            try {
              return readFileSync(secureJoin(dir, f), 'utf8');
            } catch {
              return undefined;
            }
          };
          return resolveUser(user, read('/etc/passwd'), read('/etc/group'));
        });
      }
      // /etc/hostname, /etc/hosts and /etc/resolv.conf of its own, as Docker gives (unless the
      // host's network is shared, or the user mounted their own).
      const hostNet = !(spec.linux?.namespaces ?? []).some((n) => n.type === 'network');
      const hostname = spec.hostname ?? id.slice(0, 12);
      let hosts = `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`;
      let resolv = hostResolvConf();
      if (settings || o.dns?.length || o.dnsSearch?.length || o.dnsOption?.length || o.addHost?.length) {
        const files = (net ?? (await this.networks())).etcFiles(settings ?? { Networks: {}, Ports: [], Dns: o.dns, DnsSearch: o.dnsSearch, DnsOptions: o.dnsOption, ExtraHosts: o.addHost }, hostname, hostResolvText());
        hosts = files.hosts;
        resolv = files.resolv;
      }
      for (const l of links) {
        hosts += `${l.ip}\t${[...new Set([l.alias, l.id.slice(0, 12), l.name])].join(' ')}\n`;
        spec.process!.env = [...(spec.process!.env ?? []), ...linkEnv(l, name)];
      }
      const etc: [string, string][] = [
        ['hostname', `${hostname}\n`],
        ['hosts', hosts],
        ['resolv.conf', resolv],
      ];
      for (const [name, content] of etc) {
        if (hostNet && name !== 'hostname') continue;
        const dest = `/etc/${name}`;
        if ((spec.mounts ?? []).some((m) => m.destination === dest)) continue;
        writeFileSync(join(bundle, name), content);
        if (rec.IdShift) chownSync(join(bundle, name), rec.IdShift.uid, rec.IdShift.gid);
        spec.mounts!.push({ destination: dest, type: 'bind', source: join(bundle, name), options: ['rbind', 'rprivate', spec.root?.readonly ? 'ro' : 'rw'] });
      }
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      // A new, empty volume takes what the image has where it is mounted, as Docker does.
      for (const m of fresh) if (this.volumes.isEmpty(m.Name!) && !m.NoCopy) await this.images.copyFromSnapshot(id, m.Destination, m.Source);
      // A new volume of a remapped container belongs to its root.
      if (rec.IdShift) for (const m of fresh) chownSync(m.Source, rec.IdShift.uid, rec.IdShift.gid);
      return rec;
    } catch (e) {
      for (const m of fresh) if (m.Anonymous) this.volumes.remove(m.Name!);
      net?.release(id);
      if (prepared) this.images.snapshots.remove(id);
      rmSync(bundle, { recursive: true, force: true });
      rmSync(join(this.dir, id + '.json'), { force: true });
      this.names.release(name, id);
      throw e;
    }
  }

  /**
   * `start`: runs a created or exited container: under its monitor (detached), or attached to
   * this process until it ends (returns its exit code).
   */
  async start(nameOrId: string, opts: { attach?: boolean; tty?: boolean; stdio?: StdioOptions; onStart?: (pid: number) => void } = {}): Promise<{ code: number; oomKilled: boolean }> {
    const rec = this.find(nameOrId);
    const o = { ...opts, tty: opts.tty ?? rec.Tty === true };
    if (rec.State.Status === 'running') return { code: 0, oomKilled: false };
    for (const l of rec.Links ?? []) {
      const child = this.names.lookup(l.slice(1).split(':')[0]!);
      const other = child === undefined ? undefined : this.read(child);
      if (!other || other.State.Status !== 'running') throw failedPrecondition(`Cannot link to a non running container: ${l.replace(':', ' AS ')}`);
    }
    rec.ManuallyStopped = false;
    if (this.runtime.exists(rec.Id)) await this.runtime.delete(rec.Id, true).catch(() => {});
    rmSync(this.statusFile(rec.Id), { force: true });
    const rootfsMount = await this.rootfsMount(rec);
    const bundle = this.bundleDir(rec.Id);
    // Its network namespace, veths, published ports and DNS names, before its process.
    const net = rec.NetworkSettings ? await this.networks() : undefined;
    if (net) {
      const up = await net.up({ id: rec.Id, name: rec.Name, settings: rec.NetworkSettings! });
      rec.PortsUp = up.ports;
      rec.NetToken = up.token;
      this.save(rec);
    }
    const netDown = () => {
      if (!net) return;
      net.down(rec.Id);
      rec.PortsUp = undefined;
    };
    if (!o.attach) {
      try {
        await this.runDetached(rec, bundle, rootfsMount);
      } catch (e) {
        netDown();
        this.save(rec);
        throw e;
      }
      return { code: 0, oomKilled: false };
    }
    // Attached without a terminal, the helper passes the output through and keeps the log too.
    if (!o.tty) {
      const logDir = join(this.opts.root, 'containers', rec.Id);
      mkdirSync(logDir, { recursive: true });
      rec.LogPath = join(logDir, 'json.log');
    }
    let res;
    try {
      res = await this.runtime.run(rec.Id, {
      bundle,
      stdio: o.tty ? ['inherit', 'inherit', 'inherit'] : o.stdio,
      tty: o.tty,
      loopbackUp: true,
      log: o.tty ? undefined : rec.LogPath,
      status: o.tty ? undefined : this.statusFile(rec.Id),
      rootfsMount,
      onStart: (pid) => {
        rec.State = { ...rec.State, Status: 'running', Pid: pid, MonitorPid: 0, StartedAt: new Date().toISOString() };
        this.save(rec);
        o.onStart?.(pid);
      },
    });
    } finally {
      netDown();
    }
    rec.State = { ...rec.State, Status: 'exited', ExitCode: res.code, FinishedAt: new Date().toISOString(), OOMKilled: res.oomKilled };
    this.save(rec);
    if (rec.IdShift) await this.unmountRootfs(rec.Id);
    return res;
  }

  /** `run`: create and start; with `rm`, removed when it ends (or fails to start). */
  async run(o: RunOptions): Promise<{ id: string; code: number; oomKilled: boolean }> {
    const policy = parseRestart(o.restart).Name;
    if (policy !== 'no' && o.rm) throw invalidArgument('Conflicting options: --restart and --rm');
    if (policy !== 'no' && !o.detach) throw invalidArgument('--restart needs -d (a foreground container has no monitor to restart it)');
    mark('engine: run');
    const rec = await this.create({ ...o, autoRemove: o.rm === true && o.detach === true });
    mark('engine: created');
    try {
      const r = await this.start(rec.Id, { attach: !o.detach, tty: o.tty, stdio: o.stdio, onStart: o.onStart });
      return { id: rec.Id, ...r };
    } catch (e) {
      await this.remove(rec.Id, true, true).catch(() => {});
      throw e;
    } finally {
      // --rm takes the container's anonymous volumes with it, as Docker does; a detached one is
      // removed by its monitor's cleanup when it ends.
      if (o.rm && !o.detach) {
        mark('engine: removing');
        await this.remove(rec.Id, true, true).catch(() => {});
        mark('engine: removed');
      }
    }
  }

  async restart(nameOrId: string, timeout?: number): Promise<void> {
    await this.stop(nameOrId, timeout);
    await this.start(nameOrId);
  }

  rename(nameOrId: string, name: string): void {
    const rec = this.find(nameOrId);
    if (!validName(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (name === rec.Name) return;
    const taken = this.list().find((c) => c.Name === name);
    if (taken) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${taken.Id}".`);
    this.names.claim(name, rec.Id, 'rename');
    const old = rec.Name;
    rec.Name = name;
    this.save(rec);
    this.names.release(old, rec.Id);
  }

  /** Docker-shaped details of a container. */
  inspect(nameOrId: string): Record<string, unknown> {
    const rec = this.find(nameOrId);
    let spec: Spec | undefined;
    try {
      spec = JSON.parse(readFileSync(join(this.bundleDir(rec.Id), 'config.json'), 'utf8')) as Spec;
    } catch {
      spec = undefined;
    }
    const st = rec.State;
    return {
      Id: rec.Id,
      Created: rec.Created,
      Path: rec.Command[0],
      Args: rec.Command.slice(1),
      State: { Status: st.Status, Running: st.Status === 'running', Paused: false, OOMKilled: st.OOMKilled, Dead: false, Pid: st.Status === 'running' ? st.Pid : 0, ExitCode: st.ExitCode, StartedAt: st.StartedAt, FinishedAt: st.FinishedAt, ...(rec.Health ? { Health: rec.Health } : {}) },
      Image: rec.ImageID,
      Name: '/' + rec.Name,
      LogPath: rec.LogPath ?? '',
      Driver: this.images.snapshots.driver,
      Config: { Hostname: spec?.hostname ?? '', Env: spec?.process?.env ?? [], Cmd: rec.Command, Image: rec.Image, WorkingDir: spec?.process?.cwd ?? '/', Labels: spec?.annotations ?? {}, StopSignal: rec.StopSignal ?? 'SIGTERM', Tty: rec.Tty === true, OpenStdin: rec.OpenStdin === true, AttachStdin: false },
      RestartCount: rec.RestartCount ?? 0,
      ...(rec.Health ? { Health: rec.Health } : {}),
      NetworkSettings: this.networkSettingsOf(rec),
      HostConfig: { NetworkMode: rec.NetworkMode ?? 'none', Links: rec.Links ?? null, PortBindings: portMap(rec.NetworkSettings?.Ports ?? []), Dns: rec.NetworkSettings?.Dns ?? [], DnsSearch: rec.NetworkSettings?.DnsSearch ?? [], ExtraHosts: rec.NetworkSettings?.ExtraHosts ?? [], RestartPolicy: rec.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: rec.AutoRemove, ReadonlyRootfs: spec?.root?.readonly === true, Memory: spec?.linux?.resources?.memory?.limit ?? 0, PidsLimit: spec?.linux?.resources?.pids?.limit ?? 0 },
      Mounts: (rec.Mounts ?? []).map((m) => ({ Type: m.Type, ...(m.Name ? { Name: m.Name } : {}), Source: m.Source, Destination: m.Destination, RW: m.RW })),
    };
  }

  /** inspect's NetworkSettings, shaped as Docker's (top-level IPAddress for the default bridge). */
  private networkSettingsOf(rec: ContainerRecord): Record<string, unknown> {
    const nets = rec.NetworkSettings?.Networks ?? {};
    const running = rec.State.Status === 'running';
    const def = nets['bridge'];
    return {
      Bridge: '',
      SandboxKey: running && rec.NetworkSettings ? join(this.opts.runroot, 'netns', rec.Id) : '',
      Ports: running ? portMap(rec.PortsUp ?? []) : {},
      IPAddress: def?.IPAddress ?? '',
      IPPrefixLen: def?.IPPrefixLen ?? 0,
      Gateway: def?.Gateway ?? '',
      MacAddress: def?.MacAddress ?? '',
      Networks: Object.fromEntries(Object.entries(nets).map(([name, e]) => [name, { IPAMConfig: null, Links: null, ...e, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: [rec.Name, rec.Id.slice(0, 12), ...e.Aliases] }])),
    };
  }

  /** `port`: the published ports of a running container. */
  ports(nameOrId: string): { hostIp: string; hostPort: number; containerPort: number; proto: 'tcp' | 'udp' }[] {
    const rec = this.find(nameOrId);
    return rec.State.Status === 'running' ? (rec.PortsUp ?? []) : [];
  }

  /** `network connect`: an address on one more network; a running container gets its veth now. */
  async connect(network: string, nameOrId: string, o: { ip?: string; aliases?: string[] } = {}): Promise<void> {
    const rec = this.find(nameOrId);
    const net = await this.networks();
    const n = net.find(network);
    if (!rec.NetworkSettings) throw invalidArgument(`container ${rec.Name} is in network mode ${rec.NetworkMode ?? 'none'}: it cannot join a network`);
    if (rec.NetworkSettings.Networks[n.Name]) throw conflict(`endpoint with name ${rec.Name} already exists in network ${n.Name}`);
    if (n.Name === 'bridge' && (o.ip !== undefined || o.aliases?.length)) throw invalidArgument('--ip and --alias are supported on user defined networks only');
    const { endpoint } = net.allocate(n.Id, { id: rec.Id, name: rec.Name, ip: o.ip, aliases: o.aliases });
    try {
      if (rec.State.Status === 'running') net.connectRunning({ id: rec.Id, name: rec.Name }, n, endpoint);
    } catch (e) {
      net.release(rec.Id, [n.Id]);
      throw e;
    }
    const again = this.find(rec.Id);
    again.NetworkSettings!.Networks[n.Name] = endpoint;
    this.save(again);
  }

  /** `network disconnect` */
  async disconnect(network: string, nameOrId: string): Promise<void> {
    const rec = this.find(nameOrId);
    const net = await this.networks();
    const n = net.find(network);
    if (!rec.NetworkSettings?.Networks[n.Name]) throw notFound(`container ${rec.Name} is not connected to network ${n.Name}`);
    if (rec.State.Status === 'running') net.disconnectRunning(rec.Id, n);
    net.release(rec.Id, [n.Id]);
    delete rec.NetworkSettings.Networks[n.Name];
    this.save(rec);
  }

  /** Whether a container (of any state) has this id (network prune returns others' addresses). */
  exists(id: string): boolean {
    return existsSync(join(this.dir, id + '.json'));
  }

  /** Ids of running containers (network prune leaves their namespaces alone). */
  isRunning(id: string): boolean {
    try {
      return this.find(id).State.Status === 'running';
    } catch {
      return false;
    }
  }

  /** `diff`: what the container changed, like docker diff. */
  async diff(nameOrId: string): Promise<{ kind: string; path: string }[]> {
    // The mount points berth made for /etc/hostname, /etc/hosts and /etc/resolv.conf are not
    // the container's changes (Docker leaves them out too).
    const own = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
    return (await this.images.snapshots.changes(this.find(nameOrId).Id)).filter((c) => !(own.has(c.path) && c.kind !== 'D'));
  }

  /** `commit`: the container's changes as a new image. */
  async commit(nameOrId: string, o: { ref?: string; changes?: string[]; message?: string; author?: string } = {}): Promise<string> {
    const rec = this.find(nameOrId);
    const base = this.images.resolve(rec.ImageID);
    const img = await this.images.commitSnapshot(rec.Id, base, { ...o, createdBy: `berth commit ${rec.Name}` });
    return img.id;
  }

  /** `export`: the container's file system as a tar stream. */
  exportFs(nameOrId: string): Promise<import('node:stream').Readable> {
    return this.images.exportSnapshot(this.find(nameOrId).Id);
  }

  /**
   * `cp` out of a container: `path` in its file system to a host path, or (dest undefined) as a
   * tar stream written to `out`.
   */
  async copyOut(nameOrId: string, path: string, dest: string | undefined, out?: NodeJS.WritableStream): Promise<void> {
    const rec = this.find(nameOrId);
    await this.images.withSnapshot(rec.Id, false, async (dir) => {
      const src = secureJoin(dir, path);
      if (!existsSync(src)) throw notFound(`Could not find the file ${path} in container ${rec.Name}`);
      if (dest === undefined) {
        const r = spawnSync('tar', ['-c', '-C', dirname(src), basename(src) || '.'], { maxBuffer: 1 << 30 });
        if (r.status !== 0) throw invalidArgument(`cp ${path}: ${String(r.stderr).trim()}`);
        out!.write(r.stdout);
        return;
      }
      const to = existsSync(dest) && statSync(dest).isDirectory() ? join(dest, basename(src)) : dest;
      const r = spawnSync('cp', ['-a', src, to]);
      if (r.status !== 0) throw invalidArgument(`cp ${path} ${dest}: ${String(r.stderr).trim()}`);
    });
  }

  /** `cp` into a container: a host path, or (src undefined) a tar stream from `input`, to `path`. */
  async copyIn(nameOrId: string, src: string | undefined, path: string, input?: Buffer): Promise<void> {
    const rec = this.find(nameOrId);
    if (src !== undefined && !existsSync(src)) throw notFound(`cp: no such file or directory: ${src}`);
    await this.images.withSnapshot(rec.Id, true, async (dir) => {
      const target = secureJoin(dir, path);
      if (src === undefined) {
        if (!existsSync(target) || !statSync(target).isDirectory()) throw invalidArgument(`cp: the destination ${path} must be a directory when copying a tar stream`);
        const r = spawnSync('tar', ['-x', '-C', target, '--no-same-owner'], { input });
        if (r.status !== 0) throw invalidArgument(`cp - ${path}: ${String(r.stderr).trim()}`);
        return;
      }
      const to = existsSync(target) && statSync(target).isDirectory() ? join(target, basename(src)) : target;
      if (!existsSync(dirname(to))) throw notFound(`cp: the directory of ${path} does not exist in container ${rec.Name}`);
      const r = spawnSync('cp', ['-a', src, to]);
      if (r.status !== 0) throw invalidArgument(`cp ${src} ${path}: ${String(r.stderr).trim()}`);
    });
  }

  /** `top`: the container's processes (pid, user, command). */
  top(nameOrId: string): { pid: number; user: string; command: string }[] {
    const rec = this.running(nameOrId);
    return this.runtime.ps(rec.Id).map((pid) => {
      let command = '';
      let uid = '';
      try {
        command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
      } catch {
        /* exited meanwhile */
      }
      return { pid, user: uid === '0' ? 'root' : uid, command };
    });
  }

  /** `stats --no-stream`: usage read from the container's cgroup. */
  stats(nameOrId: string) {
    const rec = this.running(nameOrId);
    return { rec, stats: this.runtime.stats(rec.Id) };
  }

  /** `update`: new resource limits for a running container (its cgroup). */
  update(nameOrId: string, o: { memory?: string; cpus?: string; cpuShares?: number; pidsLimit?: number }): void {
    const rec = this.running(nameOrId);
    const res: NonNullable<NonNullable<Spec['linux']>['resources']> = {};
    if (o.memory) res.memory = { limit: parseBytes(o.memory, 'memory') };
    if (o.cpus !== undefined) {
      const n = Number(o.cpus);
      if (!(n > 0)) throw invalidArgument(`invalid argument ${JSON.stringify(o.cpus)} for "--cpus" flag: must be a positive number`);
      res.cpu = { quota: Math.round(n * 100000), period: 100000 };
    }
    if (o.cpuShares !== undefined) res.cpu = { ...res.cpu, shares: o.cpuShares };
    if (o.pidsLimit !== undefined) res.pids = { limit: o.pidsLimit };
    if (Object.keys(res).length === 0) throw invalidArgument('update: nothing to change (--memory, --cpus, --cpu-shares, --pids-limit)');
    this.runtime.update(rec.Id, res);
  }

  pause(nameOrId: string): void {
    this.runtime.pause(this.running(nameOrId).Id);
  }

  unpause(nameOrId: string): void {
    this.runtime.resume(this.running(nameOrId).Id);
  }

  /** `container prune`: removes every container that is not running. */
  async prune(): Promise<string[]> {
    const gone: string[] = [];
    for (const c of this.list()) {
      if (c.State.Status === 'running') continue;
      await this.remove(c.Id);
      gone.push(c.Id);
    }
    return gone;
  }

  private running(nameOrId: string): ContainerRecord {
    const rec = this.find(nameOrId);
    if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id.slice(0, 12)} is not running`);
    return rec;
  }

  kill(nameOrId: string, signal: NodeJS.Signals | number = 'SIGKILL'): ContainerRecord {
    const rec = this.running(nameOrId);
    rec.ManuallyStopped = true;
    this.save(rec);
    process.kill(rec.State.Pid, signal);
    return rec;
  }

  /** Waits until the container ended; returns its exit code. */
  async wait(nameOrId: string): Promise<number> {
    for (;;) {
      const rec = this.find(nameOrId);
      if (rec.State.Status !== 'running') return rec.State.ExitCode;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** `stop`: the stop signal, then SIGKILL after `timeout` seconds. */
  async stop(nameOrId: string, timeoutArg?: number): Promise<void> {
    const rec = this.find(nameOrId);
    const timeout = timeoutArg ?? rec.StopTimeout ?? 10;
    // Also when it is between two runs of its restart policy: it must not come back.
    rec.ManuallyStopped = true;
    this.save(rec);
    if (rec.State.Status !== 'running') return;
    try {
      process.kill(rec.State.Pid, (rec.StopSignal as NodeJS.Signals | undefined) ?? 'SIGTERM');
    } catch {
      /* gone */
    }
    const deadline = Date.now() + timeout * 1000;
    while (Date.now() < deadline && this.find(rec.Id).State.Status === 'running') await new Promise((r) => setTimeout(r, 50));
    if (this.find(rec.Id).State.Status === 'running') {
      try {
        process.kill(rec.State.Pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await this.wait(rec.Id);
  }

  /** `exec`: a process in a running container, with the container's settings. */
  async exec(nameOrId: string, o: { command: string[]; env?: string[]; workdir?: string; user?: string; detach?: boolean; tty?: boolean; stdio?: StdioOptions; onStart?: (pid: number) => void }): Promise<number> {
    const rec = this.running(nameOrId);
    if (o.command.length === 0) throw invalidArgument('exec: a command is required');
    const spec = JSON.parse(readFileSync(join(this.bundleDir(rec.Id), 'config.json'), 'utf8')) as Spec;
    const p = spec.process!;
    let user = p.user;
    if (o.user) {
      // Names as the container's own /etc/passwd and /etc/group say, read through its root.
      const read = (f: string) => {
        try {
          return readFileSync(secureJoin(`/proc/${rec.State.Pid}/root`, f), 'utf8');
        } catch {
          return undefined;
        }
      };
      user = resolveUser(o.user, read('/etc/passwd'), read('/etc/group'));
    }
    const r = await this.runtime.exec(rec.Id, {
      process: { ...p, args: o.command, env: [...(p.env ?? []), ...(o.tty && !(p.env ?? []).some((e) => e.startsWith('TERM=')) ? ['TERM=xterm'] : []), ...(o.env ?? [])], cwd: o.workdir ?? p.cwd, user, terminal: false },
      detach: o.detach,
      tty: o.tty === true && !o.detach,
      stdio: o.tty && !o.detach ? ['inherit', 'inherit', 'inherit'] : o.stdio,
      onStart: o.onStart,
    });
    return r.code;
  }

  /**
   * What the monitor runs when a detached container ended: clears the runtime's state and, as
   * its restart policy says, starts it again (with a growing delay: 100 ms doubling, at most 2 s).
   */
  async cleanup(nameOrId: string, netToken?: string): Promise<void> {
    let rec: ContainerRecord;
    try {
      rec = this.find(nameOrId);
    } catch {
      return; // removed meanwhile
    }
    if (rec.State.Status === 'running') return;
    // Started again meanwhile (restart, start): this cleanup's run is over and done with.
    if (netToken !== undefined && rec.NetToken !== netToken) return;
    if (this.runtime.exists(rec.Id)) await this.runtime.delete(rec.Id, true).catch(() => {});
    // (Not saved: rm may be removing the record right now; PortsUp counts only while running.)
    if (rec.NetworkSettings) (await this.networks()).down(rec.Id, netToken ?? rec.NetToken ?? '');
    if (rec.IdShift) await this.unmountRootfs(rec.Id);
    if (rec.AutoRemove) {
      await this.remove(rec.Id, true, true);
      return;
    }
    const p = rec.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 };
    if (p.Name === 'no' || rec.ManuallyStopped) return;
    const count = rec.RestartCount ?? 0;
    if (p.Name === 'on-failure' && (rec.State.ExitCode === 0 || (p.MaximumRetryCount > 0 && count >= p.MaximumRetryCount))) return;
    await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** count, 2000)));
    const again = this.find(rec.Id);
    if (again.ManuallyStopped || again.State.Status === 'running') return;
    again.RestartCount = count + 1;
    this.save(again);
    await this.start(again.Id);
  }

  /** What the monitor runs every health interval: the check, its result in the record. */
  async healthcheck(nameOrId: string): Promise<void> {
    const rec = this.find(nameOrId);
    const hc = rec.Healthcheck;
    if (!hc || rec.State.Status !== 'running') return;
    const outFile = join(this.bundleDir(rec.Id), 'health.out');
    const fd = openSync(outFile, 'w');
    const start = new Date();
    let code = -1;
    let pid = 0;
    const timer = setTimeout(() => {
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* ended */
        }
      }
    }, hc.TimeoutMs);
    try {
      code = await this.exec(rec.Id, { command: hc.Test, stdio: ['ignore', fd, fd], onStart: (p) => (pid = p) });
    } catch (e) {
      code = -1;
      writeFileSync(outFile, (e as Error).message);
    } finally {
      clearTimeout(timer);
      closeSync(fd);
    }
    const output = readFileSync(outFile, 'utf8').slice(0, 4096);
    const now = this.find(rec.Id); // re-read: others may have written it meanwhile
    const prev = now.Health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const inStartPeriod = Date.now() - Date.parse(now.State.StartedAt) < hc.StartPeriodMs;
    const streak = code === 0 ? 0 : inStartPeriod ? prev.FailingStreak : prev.FailingStreak + 1;
    const status = code === 0 ? 'healthy' : streak >= hc.Retries ? 'unhealthy' : prev.Status;
    now.Health = { Status: status, FailingStreak: streak, Log: [...prev.Log, { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: code, Output: output }].slice(-5) };
    this.save(now);
  }

  /** `rm`: removes a stopped container (a running one with force). */
  async remove(nameOrId: string, force = false, removeVolumes = false): Promise<string> {
    const rec = this.find(nameOrId);
    if (rec.State.Status === 'running') {
      if (!force) throw conflict(`cannot remove container "/${rec.Name}": container is running: stop the container before removing or force remove`);
      try {
        process.kill(rec.State.Pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 500 && processAlive(rec.State.Pid); i++) await new Promise((r) => setTimeout(r, 10));
    }
    for (let i = 0; i < 100 && this.runtime.exists(rec.Id) && processAlive(rec.State.Pid); i++) await new Promise((r) => setTimeout(r, 10));
    if (this.runtime.exists(rec.Id)) await this.runtime.delete(rec.Id, true).catch(() => {});
    if (rec.NetworkSettings) {
      const net = await this.networks();
      net.down(rec.Id);
      net.release(rec.Id);
    }
    if (rec.IdShift) await this.unmountRootfs(rec.Id);
    try {
      this.images.snapshots.remove(rec.Id);
    } catch {
      /* already gone */
    }
    rmSync(this.bundleDir(rec.Id), { recursive: true, force: true });
    rmSync(join(this.opts.root, 'containers', rec.Id), { recursive: true, force: true });
    // Under the lock with which a concurrent refresh() checks that the record is still there
    // before it writes it: otherwise that write could bring it back after this removal.
    withLock(this.recordLock(rec.Id), () => rmSync(join(this.dir, rec.Id + '.json'), { force: true }));
    this.names.release(rec.Name, rec.Id);
    if (removeVolumes) {
      for (const m of rec.Mounts ?? []) {
        if (m.Type === 'volume' && m.Anonymous && this.volumeUsers(m.Name!).length === 0) {
          try {
            this.volumes.remove(m.Name!);
          } catch {
            /* already gone */
          }
        }
      }
    }
    return rec.Id;
  }
}

/** Operations on running containers. */
export interface LogsOptions {
  follow?: boolean;
  tail?: number;
  since?: number; // ms since the epoch
}

export async function* readLogs(svc: ContainerService, nameOrId: string, o: LogsOptions = {}): AsyncGenerator<LogRecord> {
  const rec = svc.find(nameOrId);
  if (!rec.LogPath) throw invalidArgument(`container ${rec.Name}: no log (it ran in the foreground)`);
  let offset = 0;
  let first = true;
  let partial = '';
  for (;;) {
    let text = '';
    try {
      const buf = readFileSync(rec.LogPath);
      text = buf.subarray(offset).toString('utf8');
      offset = buf.length;
    } catch {
      text = '';
    }
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    let records = lines.filter(Boolean).map((l) => JSON.parse(l) as LogRecord);
    if (o.since !== undefined) records = records.filter((r) => Date.parse(r.time) >= o.since!);
    if (first && o.tail !== undefined && o.tail >= 0) records = records.slice(Math.max(0, records.length - o.tail));
    first = false;
    for (const r of records) yield r;
    if (!o.follow) return;
    if (svc.find(rec.Id).State.Status !== 'running') {
      if (text === '') return;
      continue;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `--restart` values: no, always, unless-stopped, on-failure[:N]. */
export function parseRestart(v: string | undefined): NonNullable<ContainerRecord['RestartPolicy']> {
  if (v === undefined || v === '' || v === 'no') return { Name: 'no', MaximumRetryCount: 0 };
  const m = /^(always|unless-stopped|on-failure)(?::(\d+))?$/.exec(v);
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) throw invalidArgument(`invalid restart policy ${JSON.stringify(v)} (no, always, unless-stopped, on-failure[:max-retries])`);
  return { Name: m[1] as 'always', MaximumRetryCount: m[2] ? Number(m[2]) : 0 };
}

/** The host's resolvers for a container: its /etc/resolv.conf without loopback servers (they would
 * be the container's own loopback), as Docker does. */
function hostResolvText(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

function hostResolvConf(): string {
  return hostResolvText()
    .split('\n')
    .filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l))
    .join('\n');
}

/** Docker's port map: {"80/tcp": [{HostIp, HostPort}]}. */
function portMap(ports: { hostIp: string; hostPort: number; containerPort: number; proto: string }[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) (out[`${p.containerPort}/${p.proto}`] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: p.hostPort ? String(p.hostPort) : '' });
  return out;
}

interface ImageHealthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

/** The container's health check: --health-* over the image's HEALTHCHECK (durations in ns there). */
function healthcheckOf(o: CreateOptions['health'], image: ImageHealthcheck | undefined): ContainerRecord['Healthcheck'] {
  if (o?.none) return undefined;
  let test: string[] | undefined;
  if (o?.cmd) test = ['/bin/sh', '-c', o.cmd];
  else if (image?.Test?.length) {
    const [kind, ...rest] = image.Test;
    if (kind === 'NONE') return undefined;
    test = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : kind === 'CMD' ? rest : undefined;
  }
  if (!test?.length) return undefined;
  const ms = (ns: number | undefined) => (ns ? Math.round(ns / 1e6) : undefined);
  const interval = o?.intervalMs ?? ms(image?.Interval) ?? 30_000;
  const timeout = o?.timeoutMs ?? ms(image?.Timeout) ?? 30_000;
  const retries = o?.retries ?? image?.Retries ?? 3;
  if (!(interval > 0) || !(timeout > 0) || !(retries >= 1)) throw invalidArgument('--health-interval and --health-timeout must be positive durations, --health-retries at least 1');
  return { Test: test, IntervalMs: interval, TimeoutMs: timeout, Retries: retries, StartPeriodMs: o?.startPeriodMs ?? ms(image?.StartPeriod) ?? 0 };
}

interface LinkTarget {
  name: string;
  alias: string;
  id: string;
  ip: string;
  /** its environment (for ALIAS_ENV_*) */
  env: string[];
  /** its exposed ports, "80/tcp" */
  ports: string[];
}

/** Docker's link variables: ALIAS_NAME, ALIAS_PORT (the lowest port), ALIAS_PORT_80_TCP(_ADDR, _PORT, _PROTO), ALIAS_ENV_*. */
function linkEnv(l: LinkTarget, self: string): string[] {
  const p = l.alias.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  const out = [`${p}_NAME=/${self}/${l.alias}`];
  const ports = l.ports
    .map((s) => {
      const [num, proto = 'tcp'] = s.split('/');
      return { num: Number(num), proto };
    })
    .filter((x) => Number.isInteger(x.num) && x.num > 0)
    .sort((a, b) => a.num - b.num || a.proto.localeCompare(b.proto));
  if (ports[0]) out.push(`${p}_PORT=${ports[0].proto}://${l.ip}:${ports[0].num}`);
  for (const { num, proto } of ports) {
    const k = `${p}_PORT_${num}_${proto.toUpperCase()}`;
    out.push(`${k}=${proto}://${l.ip}:${num}`, `${k}_ADDR=${l.ip}`, `${k}_PORT=${num}`, `${k}_PROTO=${proto}`);
  }
  for (const e of l.env) {
    const at = e.indexOf('=');
    const k = e.slice(0, at);
    if (at > 0 && k !== 'HOME' && k !== 'PATH') out.push(`${p}_ENV_${k}=${e.slice(at + 1)}`);
  }
  return out;
}
