/**
 * Named volumes: a directory per volume under the root (<root>/volumes/NAME/_data) with a small
 * JSON record beside it. The engine mounts `_data` into containers and seeds an empty volume
 * with the image's content at the mount point, as Docker does.
 */
import { randomBytes } from '../lib/builtins.js';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alreadyExists, conflict, invalidArgument, notFound } from '../lib/errors.js';
import { RecordStore } from '../sys/store.js';

export interface Volume {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
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

  create(name?: string, opts: { labels?: Record<string, string>; anonymous?: boolean } = {}): Volume {
    const n = name ?? randomBytes(32).toString('hex');
    if (!NAME_RE.test(n)) throw invalidArgument(`create ${n}: ${JSON.stringify(n)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    const existing = this.get(n);
    if (existing) {
      if (name !== undefined && opts.labels && Object.keys(opts.labels).length) throw alreadyExists(`volume ${JSON.stringify(n)} already exists`);
      return existing;
    }
    const v: Volume = { Name: n, Driver: 'local', Mountpoint: join(this.dir(n), '_data'), CreatedAt: new Date().toISOString(), Labels: opts.labels ?? {}, Scope: 'local', Anonymous: opts.anonymous === true };
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
    this.require(name);
    if (inUseBy.length) throw conflict(`remove ${name}: volume is in use - [${inUseBy.join(', ')}]`);
    rmSync(this.dir(name), { recursive: true, force: true });
  }
}
