/**
 * Named volumes: a directory per volume under the root (<root>/volumes/NAME/_data) with a small
 * JSON record beside it. The engine mounts `_data` into containers and seeds an empty volume
 * with the image's content at the mount point, as Docker does.
 */
import { randomBytes } from '../lib/builtins.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alreadyExists, conflict, invalidArgument, notFound, reason } from '../lib/errors.js';
import { fsOpToPlan, runFsOps, runFsPlanSync } from '../sys/fsops.js';
import { RecordStore } from '../sys/store.js';

export interface Volume {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  /** null for a volume made implicitly by a container (as Docker's). */
  Labels: Record<string, string> | null;
  /** The local driver's options as given (`type`, `device`, `o`): what is mounted on Mountpoint while a container uses it. */
  Options: Record<string, string> | null;
  Scope: 'local';
  /** Made for one container (an unnamed -v or an image's VOLUME): `rm -v` removes it. */
  Anonymous: boolean;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class VolumeStore {
  /** NAME/volume.json beside NAME/_data. */
  private readonly records: RecordStore<Volume>;

  constructor(readonly root: string) {
    this.records = new RecordStore<Volume>(root, { file: (name) => join(name, 'volume.json'), idOf: (entry) => entry });
  }

  private dir(name: string): string {
    return join(this.root, name);
  }

  create(name?: string, opts: { labels?: Record<string, string>; options?: Record<string, string> | null; anonymous?: boolean } = {}): Volume {
    const n = name ?? randomBytes(32).toString('hex');
    if (!NAME_RE.test(n)) throw invalidArgument(`create ${n}: ${JSON.stringify(n)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    if (opts.options) checkLocalOptions(n, opts.options);
    const existing = this.get(n);
    if (existing) {
      if (name !== undefined && opts.labels && Object.keys(opts.labels).length) throw alreadyExists(`volume ${JSON.stringify(n)} already exists`);
      return existing;
    }
    const v: Volume = { Name: n, Driver: 'local', Mountpoint: join(this.dir(n), '_data'), CreatedAt: new Date().toISOString(), Labels: opts.labels ?? null, Options: opts.options ?? null, Scope: 'local', Anonymous: opts.anonymous === true };
    mkdirSync(v.Mountpoint, { recursive: true });
    // Two processes making the same volume at once: the first one's record stands.
    if (!this.records.create(n, v)) return this.get(n) ?? v;
    return v;
  }

  get(name: string): Volume | undefined {
    return this.records.get(name);
  }

  require(name: string): Volume {
    const v = this.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  list(): Volume[] {
    return this.records.list().sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** Whether the volume has never been written to (it may then be seeded). */
  isEmpty(name: string): boolean {
    const v = this.require(name);
    return !existsSync(v.Mountpoint) || readdirSync(v.Mountpoint).length === 0;
  }

  remove(name: string, inUseBy: string[] = []): void {
    const v = this.require(name);
    if (inUseBy.length) throw conflict(`remove ${name}: volume is in use - [${inUseBy.join(', ')}]`);
    if (isMounted(v.Mountpoint)) runFsPlanSync([fsOpToPlan({ op: 'umount', target: v.Mountpoint, flags: MNT_DETACH })]);
    rmSync(this.dir(name), { recursive: true, force: true });
  }

  /** Whether the volume has a file system of its own (driver options) to mount while it is used. */
  hasMount(name: string): boolean {
    return Boolean(this.get(name)?.Options?.type);
  }

  /** Mounts a volume's file system (its `type`, `device` and `o`) on its Mountpoint, unless it is mounted already. */
  async mount(name: string): Promise<void> {
    const v = this.require(name);
    const o = v.Options;
    if (!o?.type || isMounted(v.Mountpoint)) return;
    const { flags, data } = mountFlags(o.o ?? '');
    try {
      await runFsOps([{ op: 'mount', source: o.device ?? 'none', target: v.Mountpoint, fstype: o.type === 'none' ? '' : o.type, flags, data }]);
    } catch (e) {
      throw invalidArgument(`error while mounting volume '${v.Mountpoint}': ${reason(e)}`, { cause: e });
    }
  }

  /** Unmounts what `mount` mounted (the last container using the volume stopped). */
  async unmount(name: string): Promise<void> {
    const v = this.get(name);
    if (!v?.Options?.type || !isMounted(v.Mountpoint)) return;
    await runFsOps([{ op: 'umount', target: v.Mountpoint, flags: MNT_DETACH }]).catch(() => {});
  }
}

const MNT_DETACH = 2;

/** The local driver's options, checked as Docker's: only type, device and o; a type needs a device. */
function checkLocalOptions(name: string, opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) if (!['type', 'device', 'o'].includes(k)) throw invalidArgument(`create ${name}: invalid option: ${JSON.stringify(k)}`);
  if ((opts.type || opts.o) && !opts.device) throw invalidArgument(`create ${name}: missing required option: "device"`);
  if (opts.device && !opts.type) throw invalidArgument(`create ${name}: missing required option: "type"`);
}

/** mount(8)-style options: the flag words as mount flags, the rest as the file system's data. */
const FLAGS: Record<string, [set: number, clear: boolean]> = {
  ro: [1, false], rw: [1, true], nosuid: [2, false], suid: [2, true], nodev: [4, false], dev: [4, true],
  noexec: [8, false], exec: [8, true], sync: [16, false], async: [16, true], remount: [32, false],
  mand: [64, false], nomand: [64, true], dirsync: [128, false], noatime: [1024, false], atime: [1024, true],
  nodiratime: [2048, false], diratime: [2048, true], bind: [4096, false], rbind: [4096 | 16384, false],
  relatime: [1 << 21, false], norelatime: [1 << 21, true], strictatime: [1 << 24, false],
};

function mountFlags(o: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const w of o.split(',').filter(Boolean)) {
    const f = FLAGS[w];
    if (!f) data.push(w);
    else if (f[1]) flags &= ~f[0];
    else flags |= f[0];
  }
  return { flags, data: data.join(',') };
}

function isMounted(path: string): boolean {
  const esc = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === esc);
}
