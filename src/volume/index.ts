/**
 * Named volumes: a directory per volume under the root (<root>/volumes/NAME/_data) with a small
 * JSON record beside it. The engine mounts `_data` into containers and seeds an empty volume
 * with the image's content at the mount point, as Docker does.
 */
import { randomBytes } from '../lib/builtins.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alreadyExists, conflict, errnoCode, invalidArgument, notFound } from '../lib/errors.js';
import { writeFileAtomic } from '../sys/fs.js';

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
  constructor(readonly root: string) {}

  private dir(name: string): string {
    return join(this.root, name);
  }

  create(name?: string, opts: { labels?: Record<string, string>; anonymous?: boolean } = {}): Volume {
    const n = name ?? randomBytes(32).toString('hex');
    if (!NAME_RE.test(n)) throw invalidArgument(`create ${JSON.stringify(n)}: includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
    const existing = this.get(n);
    if (existing) {
      if (name !== undefined && opts.labels && Object.keys(opts.labels).length) throw alreadyExists(`volume ${JSON.stringify(n)} already exists`);
      return existing;
    }
    const v: Volume = { Name: n, Driver: 'local', Mountpoint: join(this.dir(n), '_data'), CreatedAt: new Date().toISOString(), Labels: opts.labels ?? {}, Scope: 'local', Anonymous: opts.anonymous === true };
    mkdirSync(v.Mountpoint, { recursive: true });
    writeFileAtomic(join(this.dir(n), 'volume.json'), JSON.stringify(v));
    return v;
  }

  get(name: string): Volume | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir(name), 'volume.json'), 'utf8')) as Volume;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  require(name: string): Volume {
    const v = this.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  list(): Volume[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
    return names.map((n) => this.get(n)).filter((v): v is Volume => v !== undefined).sort((a, b) => a.Name.localeCompare(b.Name));
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
