/**
 * Containers, first slice: `run` in the foreground (an image's layers as the container's root,
 * Docker's defaults for everything else), `ps`, `rm`. Detached containers, exec, logs and the
 * rest come with the containers issue.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { conflict, errnoCode, invalidArgument, notFound } from '../lib/errors.js';
import { parseBytes } from '../lib/units.js';
import type { Spec } from '../oci/runtime-spec.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, Runtime } from '../runtime/index.js';
import { writeFileAtomic } from '../sys/fs.js';
import { processAlive } from '../sys/proc.js';
import type { ImageService } from './images.js';

/** Docker's default capability set. */
export const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

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
}

export interface LogRecord {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

export interface RunOptions {
  image: string;
  command?: string[];
  name?: string;
  rm?: boolean;
  detach?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  entrypoint?: string;
  memory?: string;
  cpus?: string;
  pidsLimit?: number;
  network?: string;
  readOnly?: boolean;
  stdio?: StdioOptions;
  onStart?: (pid: number) => void;
}

const ADJ = ['brave', 'calm', 'eager', 'fond', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'quiet', 'sharp', 'sunny', 'tidy', 'vivid', 'witty', 'zen'];
const NOUN = ['albatross', 'barge', 'buoy', 'canal', 'dinghy', 'ferry', 'harbor', 'jetty', 'keel', 'lighthouse', 'mooring', 'pier', 'quay', 'rudder', 'schooner', 'tug'];

export class ContainerService {
  private readonly dir: string;
  readonly runtime: Runtime;

  constructor(
    private readonly images: ImageService,
    private readonly opts: { root: string; runroot: string },
  ) {
    this.dir = join(opts.root, 'metadata', 'containers');
    this.runtime = new Runtime({ root: join(opts.runroot, 'runtime') });
  }

  list(): ContainerRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
    const out: ContainerRecord[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as ContainerRecord;
        if (rec.State.Status === 'running') this.refresh(rec);
        out.push(rec);
      } catch {
        /* being written or removed */
      }
    }
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
    const m = ended ? /^(exit|signal) (\d+) ?(\S+)?$/.exec(ended) : null;
    if (m) {
      const code = m[1] === 'exit' ? Number(m[2]) : 128 + Number(m[2]);
      rec.State = { ...rec.State, Status: 'exited', ExitCode: code, FinishedAt: m[3] ?? new Date().toISOString() };
    } else if (!processAlive(rec.State.Pid) && !(rec.State.MonitorPid && processAlive(rec.State.MonitorPid))) {
      // Neither the process nor its monitor (which would have said how it ended) is there.
      rec.State = { ...rec.State, Status: 'exited', ExitCode: rec.State.ExitCode || 255, FinishedAt: rec.State.FinishedAt || new Date().toISOString() };
    } else return;
    this.save(rec);
    // The runtime's state and cgroup go as soon as someone sees it ended.
    if (this.runtime.exists(rec.Id)) void this.runtime.delete(rec.Id, true).catch(() => {});
  }

  /** Image ids containers use (for rmi). */
  imagesInUse(): Set<string> {
    return new Set(this.list().map((c) => c.ImageID));
  }

  find(nameOrId: string): ContainerRecord {
    const all = this.list();
    const exact = all.find((r) => r.Name === nameOrId || r.Id === nameOrId);
    if (exact) return exact;
    const byPrefix = /^[0-9a-f]+$/.test(nameOrId) ? all.filter((r) => r.Id.startsWith(nameOrId)) : [];
    if (byPrefix.length > 1) throw invalidArgument(`container id prefix ${JSON.stringify(nameOrId)} is ambiguous`);
    if (!byPrefix[0]) throw notFound(`No such container: ${nameOrId}`);
    return byPrefix[0];
  }

  private save(rec: ContainerRecord): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, rec.Id + '.json'), JSON.stringify(rec));
  }

  private bundleDir(id: string): string {
    return join(this.opts.runroot, 'containers', id);
  }

  /** `run -d`: starts the container under its monitor and returns at once. */
  private async runDetached(rec: ContainerRecord, bundle: string, m: { type: string; source: string; options: string[] }): Promise<void> {
    const logDir = join(this.opts.root, 'containers', rec.Id);
    mkdirSync(logDir, { recursive: true });
    rec.LogPath = join(logDir, 'json.log');
    rec.Detached = true;
    const r = await this.runtime.runDetached(rec.Id, { bundle, rootfsMount: m, log: rec.LogPath, status: this.statusFile(rec.Id) });
    rec.State = { ...rec.State, Status: 'running', Pid: r.pid, MonitorPid: r.monitorPid, StartedAt: new Date().toISOString() };
    this.save(rec);
  }

  /** Runs a container in the foreground; returns its exit code. */
  async run(o: RunOptions): Promise<{ id: string; code: number; oomKilled: boolean }> {
    const image = this.images.resolve(o.image);
    const cfg = this.images.config(image).config ?? {};
    if (o.name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) throw invalidArgument(`Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const taken = o.name ? this.list().find((c) => c.Name === o.name) : undefined;
    if (taken) throw conflict(`Conflict. The container name "/${o.name}" is already in use by container "${taken.Id}". You have to remove (or rename) that container to be able to reuse that name.`);
    const network = o.network ?? 'none';
    if (network !== 'none' && network !== 'host') throw invalidArgument(`--network ${JSON.stringify(network)}: only none and host are supported yet (bridges come with networking)`);
    const entrypoint = o.entrypoint !== undefined ? (o.entrypoint ? [o.entrypoint] : []) : ((cfg.Entrypoint as string[] | undefined) ?? []);
    const cmd = o.command && o.command.length ? o.command : o.entrypoint !== undefined ? [] : ((cfg.Cmd as string[] | undefined) ?? []);
    const args = [...entrypoint, ...cmd];
    if (args.length === 0) throw invalidArgument('No command specified');
    const resources: NonNullable<Spec['linux']>['resources'] = { devices: [{ allow: false, access: 'rwm' }] };
    if (o.memory) resources.memory = { limit: parseBytes(o.memory, 'memory') };
    if (o.cpus) {
      const n = Number(o.cpus);
      if (!(n > 0)) throw invalidArgument(`invalid argument ${JSON.stringify(o.cpus)} for "--cpus" flag: must be a positive number`);
      resources.cpu = { quota: Math.round(n * 100000), period: 100000 };
    }
    if (o.pidsLimit !== undefined) resources.pids = { limit: o.pidsLimit };
    const user = o.user ?? (cfg.User as string | undefined) ?? '';
    const [u, g] = user.split(':');
    const uid = !u || u === 'root' ? 0 : Number(u);
    const gid = g === undefined || g === '' ? (uid === 0 ? 0 : uid) : g === 'root' ? 0 : Number(g);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw invalidArgument(`--user ${JSON.stringify(user)}: only numeric ids and root are supported yet`);

    const id = randomBytes(32).toString('hex');
    const name = o.name ?? `${ADJ[randomBytes(1)[0]! % ADJ.length]}_${NOUN[randomBytes(1)[0]! % NOUN.length]}_${id.slice(0, 4)}`;
    const env = [...((cfg.Env as string[] | undefined) ?? [])];
    if (!env.some((e) => e.startsWith('PATH='))) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    env.push(`HOSTNAME=${o.hostname ?? id.slice(0, 12)}`);
    for (const e of o.env ?? []) env.push(e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`);
    const namespaces: NonNullable<Spec['linux']>['namespaces'] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
    if (network === 'none') namespaces.push({ type: 'network' });
    const spec: Spec = {
      ociVersion: '1.0.2',
      process: {
        terminal: false,
        user: { uid, gid },
        args,
        env,
        cwd: o.workdir ?? ((cfg.WorkingDir as string | undefined) || '/'),
        capabilities: { bounding: DOCKER_DEFAULT_CAPS, effective: DOCKER_DEFAULT_CAPS, permitted: DOCKER_DEFAULT_CAPS },
      },
      root: { path: 'rootfs', readonly: o.readOnly === true },
      hostname: o.hostname ?? id.slice(0, 12),
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
        { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
        { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
        { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
        { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
        { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      ],
      linux: { namespaces, resources, maskedPaths: DEFAULT_MASKED_PATHS, readonlyPaths: DEFAULT_READONLY_PATHS, cgroupsPath: `/berth/${id}` },
    };

    const rec: ContainerRecord = {
      Id: id,
      Name: name,
      Image: o.image,
      ImageID: image.id,
      Command: args,
      Created: new Date().toISOString(),
      State: { Status: 'created', ExitCode: 0, Pid: 0, StartedAt: '', FinishedAt: '', OOMKilled: false },
      AutoRemove: o.rm === true,
    };
    const bundle = this.bundleDir(id);
    const top = image.layers[image.layers.length - 1];
    let prepared = false;
    let detached = false;
    this.save(rec);
    try {
      const mounts = this.images.snapshots.prepare(id, top?.chainId);
      prepared = true;
      const m = mounts[0]!;
      mkdirSync(join(bundle, 'rootfs'), { recursive: true });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      if (o.detach) {
        if (o.rm) throw invalidArgument('--rm with -d is not there yet');
        await this.runDetached(rec, bundle, { type: m.type, source: m.source, options: m.options });
        detached = true;
        return { id, code: 0, oomKilled: false };
      }
      const res = await this.runtime.run(id, {
        bundle,
        stdio: o.stdio,
        rootfsMount: { type: m.type, source: m.source, options: m.options },
        onStart: (pid) => {
          rec.State = { ...rec.State, Status: 'running', Pid: pid, StartedAt: new Date().toISOString() };
          this.save(rec);
          o.onStart?.(pid);
        },
      });
      rec.State = { ...rec.State, Status: 'exited', ExitCode: res.code, FinishedAt: new Date().toISOString(), OOMKilled: res.oomKilled };
      if (!o.rm) this.save(rec);
      return { id, code: res.code, oomKilled: res.oomKilled };
    } catch (e) {
      // Nothing left behind by a container that could not start.
      o.rm = true;
      throw e;
    } finally {
      if (!detached) rmSync(bundle, { recursive: true, force: true });
      if (o.rm) {
        if (prepared) this.images.snapshots.remove(id);
        rmSync(join(this.dir, id + '.json'), { force: true });
      }
    }
  }

  private running(nameOrId: string): ContainerRecord {
    const rec = this.find(nameOrId);
    if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id.slice(0, 12)} is not running`);
    return rec;
  }

  kill(nameOrId: string, signal: NodeJS.Signals | number = 'SIGKILL'): ContainerRecord {
    const rec = this.running(nameOrId);
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
  async stop(nameOrId: string, timeout = 10): Promise<void> {
    const rec = this.find(nameOrId);
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
  async exec(nameOrId: string, o: { command: string[]; env?: string[]; workdir?: string; user?: string; detach?: boolean; stdio?: StdioOptions; onStart?: (pid: number) => void }): Promise<number> {
    const rec = this.running(nameOrId);
    if (o.command.length === 0) throw invalidArgument('exec: a command is required');
    const spec = JSON.parse(readFileSync(join(this.bundleDir(rec.Id), 'config.json'), 'utf8')) as Spec;
    const p = spec.process!;
    let user = p.user;
    if (o.user) {
      const [u, g] = o.user.split(':');
      const uid = u === 'root' ? 0 : Number(u);
      const gid = g === undefined ? uid : g === 'root' ? 0 : Number(g);
      if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw invalidArgument(`--user ${JSON.stringify(o.user)}: only numeric ids and root are supported yet`);
      user = { uid, gid };
    }
    const r = await this.runtime.exec(rec.Id, {
      process: { ...p, args: o.command, env: [...(p.env ?? []), ...(o.env ?? [])], cwd: o.workdir ?? p.cwd, user, terminal: false },
      detach: o.detach,
      stdio: o.stdio,
      onStart: o.onStart,
    });
    return r.code;
  }

  /** `rm`: removes a stopped container (a running one with force). */
  async remove(nameOrId: string, force = false): Promise<string> {
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
    try {
      this.images.snapshots.remove(rec.Id);
    } catch {
      /* already gone */
    }
    rmSync(this.bundleDir(rec.Id), { recursive: true, force: true });
    rmSync(join(this.opts.root, 'containers', rec.Id), { recursive: true, force: true });
    rmSync(join(this.dir, rec.Id + '.json'), { force: true });
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
