/**
 * berth's metadata store (containers, networks, images and tags, volumes, names): a directory with
 * one small file per record. Every write is a whole file made aside and renamed into place, so a
 * reader sees the old record or the new one, never part of one, and a kill at any instant loses
 * nothing. Each record has its own lock (sys/lock.ts): `update` reads, changes and writes a record
 * under it, so CLI processes, monitors and a long-running service writing one record at once lose
 * no update. Plain files, no database: a command reads only the few records it needs, and start-up
 * costs nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { createFileExclusive, writeFileAtomic } from './fs.js';
import { withLock } from './lock.js';

/** How a record is kept in its file. */
export interface Codec<T> {
  encode(value: T): string;
  decode(text: string): T;
}

/** Records as JSON (with `indent`, as JSON.stringify's third argument). */
export function jsonCodec<T>(indent?: number): Codec<T> {
  return { encode: (v) => JSON.stringify(v, null, indent), decode: (t) => JSON.parse(t) as T };
}

export interface RecordStoreOptions<T> {
  /** JSON by default. */
  codec?: Codec<T>;
  /** A record's file, relative to the store's directory: `ID.json` by default. */
  file?: (id: string) => string;
  /** The id of the record a directory entry holds, undefined for any other entry (default: NAME.json → NAME). */
  idOf?: (entry: string) => string | undefined;
  /** A record's lock file: `ID.lock` in the directory by default. */
  lock?: (id: string) => string;
}

export class RecordStore<T> {
  private readonly codec: Codec<T>;
  private readonly file: (id: string) => string;
  private readonly idOf: (entry: string) => string | undefined;
  private readonly lockOf: (id: string) => string;

  constructor(
    readonly dir: string,
    o: RecordStoreOptions<T> = {},
  ) {
    this.codec = o.codec ?? jsonCodec<T>();
    this.file = o.file ?? ((id) => `${id}.json`);
    this.idOf = o.idOf ?? ((e) => (e.endsWith('.json') ? e.slice(0, -5) : undefined));
    this.lockOf = o.lock ?? ((id) => join(this.dir, `${id}.lock`));
  }

  /** The file that holds a record. */
  path(id: string): string {
    return join(this.dir, this.file(id));
  }

  has(id: string): boolean {
    return existsSync(this.path(id));
  }

  /** A record; undefined when there is none. */
  get(id: string): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(id), 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
      throw e;
    }
    return this.codec.decode(text);
  }

  /** The ids of the records (none when the directory does not exist). */
  ids(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
    return entries.map((e) => this.idOf(e)).filter((id): id is string => id !== undefined);
  }

  /** Every record; one removed while this reads (or not readable) is left out. */
  list(): T[] {
    const out: T[] = [];
    for (const id of this.ids()) {
      try {
        const r = this.get(id);
        if (r !== undefined) out.push(r);
      } catch {
        /* removed meanwhile, or not a record */
      }
    }
    return out;
  }

  /** Writes a record whole (new, or replaced as a whole; a change of one is `update`). */
  put(id: string, value: T): void {
    const path = this.path(id);
    try {
      writeFileAtomic(path, this.codec.encode(value));
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, this.codec.encode(value));
    }
  }

  /**
   * Writes a record only if there is none with this id: made whole aside and linked into place
   * (link fails when the name exists), so at most one of several creators wins and no reader
   * sees it half-written. False when the id is taken.
   */
  create(id: string, value: T): boolean {
    return createFileExclusive(this.path(id), this.codec.encode(value));
  }

  /** Removes a record's file, without its lock (inside `withLock`, or where nothing else writes it). */
  delete(id: string): void {
    rmSync(this.path(id), { force: true });
  }

  /** Removes a record under its lock: a concurrent `update` then finds it gone instead of bringing it back. */
  remove(id: string): void {
    this.withLock(id, () => this.delete(id));
  }

  /** Runs `fn` holding the record's lock (not re-entrant: no `update` or `remove` of the same id inside). */
  withLock<R>(id: string, fn: () => R): R {
    return withLock(this.lockOf(id), fn);
  }

  /**
   * Read-modify-write under the record's lock: `fn` gets the current record, changes it (or
   * returns a new one) and it is written atomically. Returns what was written; undefined (and
   * `fn` is not called) when there is no such record. An exception from `fn` writes nothing.
   */
  update(id: string, fn: (current: T) => T | void): T | undefined {
    return this.withLock(id, () => {
      const cur = this.get(id);
      if (cur === undefined) return undefined;
      const next = fn(cur) ?? cur;
      this.put(id, next);
      return next;
    });
  }
}
