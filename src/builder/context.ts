/**
 * The build context: a directory, filtered by .dockerignore (Docker's matching rules, from
 * @balena/dockerignore), from which COPY and ADD read. Sources are resolved as Docker does
 * (relative to the context root, globs with Go's filepath.Match rules per path component) and
 * may not lead outside the context (`../x`, or a symlink whose target is outside).
 *
 * Content digests of files are cached under the build cache keyed by (dev, inode, size, mtime,
 * ctime): a rebuild with nothing changed stats the files but reads none of them.
 */
import { nodeCrypto } from '../lib/builtins.js';
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, realpathSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import * as dockerignore from '@balena/dockerignore';
import type { Ignore } from '@balena/dockerignore';
import { errnoCode } from '../lib/errors.js';

// A CommonJS module whose module.exports is the factory: reached through `default` both in
// Node's ESM (the tests) and in the esbuild bundle.
type IgnoreFactory = (o?: { ignorecase?: boolean }) => Ignore;
const ignore = ((dockerignore as unknown as { default?: IgnoreFactory }).default ?? (dockerignore as unknown as IgnoreFactory)) as IgnoreFactory;

export interface Entry {
  /** Path relative to the context root, '/'-separated, no leading slash ('' for the root). */
  rel: string;
  abs: string;
  st: Stats;
}

export class ContextError extends Error {}

const GLOB = /[*?[]/;

/** Go's filepath.Match for one path component (no '/' in name). */
export function matchComponent(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new ContextError(`syntax error in pattern ${JSON.stringify(pattern)}`);
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('^')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(re + '$').test(name);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export class FileHashCache {
  private entries: Record<string, [number, number, number, number, number, string]> = {};
  private dirty = false;
  /** How many files were read to hash them (tests check a rebuild reads none). */
  reads = 0;

  constructor(private readonly file: string | undefined) {
    if (!file) return;
    try {
      this.entries = JSON.parse(readFileSync(file, 'utf8')) as typeof this.entries;
    } catch {
      this.entries = {};
    }
  }

  /**
   * Small files read to hash them, kept (within a budget) for the COPY that follows a cache miss,
   * so that a cold build reads each of them once.
   */
  private kept = new Map<string, { ino: number; size: number; mtimeMs: number; data: Buffer }>();
  private keptBytes = 0;
  static readonly KEEP_FILE_MAX = 256 << 10;
  static readonly KEEP_BUDGET = 64 << 20;

  /** The content read when the file was hashed, if it is unchanged since (given once). */
  take(abs: string, st: Stats): Buffer | undefined {
    const k = this.kept.get(abs);
    if (!k) return undefined;
    this.kept.delete(abs);
    this.keptBytes -= k.size;
    return k.ino === st.ino && k.size === st.size && k.mtimeMs === st.mtimeMs && k.data.length === st.size ? k.data : undefined;
  }

  digest(abs: string, st: Stats): string {
    const e = this.entries[abs];
    if (e && e[0] === st.dev && e[1] === st.ino && e[2] === st.size && e[3] === st.mtimeMs && e[4] === st.ctimeMs) return e[5];
    const h = nodeCrypto().createHash('sha256');
    const fd = openSync(abs, 'r');
    try {
      if (st.size <= FileHashCache.KEEP_FILE_MAX && this.keptBytes + st.size <= FileHashCache.KEEP_BUDGET) {
        // Read whole (one extra byte tells a file that grew since its stat).
        const data = Buffer.allocUnsafe(st.size + 1);
        let n = 0;
        for (let r; n < data.length && (r = readSync(fd, data, n, data.length - n, null)) > 0; ) n += r;
        h.update(data.subarray(0, n));
        if (n === st.size) {
          this.kept.set(abs, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, data: data.subarray(0, n) });
          this.keptBytes += n;
        }
      } else {
        const buf = Buffer.allocUnsafe(1 << 20);
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, null);
          if (n <= 0) break;
          h.update(buf.subarray(0, n));
        }
      }
    } finally {
      closeSync(fd);
    }
    this.reads++;
    const d = 'sha256:' + h.digest('hex');
    // A file changed just now may change again within the same (coarse, per-tick) time stamp
    // after it was read: it is hashed again next time rather than trusted.
    if (Date.now() - st.mtimeMs > 50 && Date.now() - st.ctimeMs > 50) {
      this.entries[abs] = [st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs, d];
      this.dirty = true;
    }
    return d;
  }

  save(): void {
    if (!this.file || !this.dirty) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.entries));
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}

export class BuildContext {
  private readonly ig: Ignore | undefined;
  private readonly hasExceptions: boolean;
  private readonly realRoot: string;

  constructor(
    readonly root: string,
    ignoreText: string | undefined,
    readonly hashes: FileHashCache,
  ) {
    const lines = (ignoreText ?? '').split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    this.ig = lines.length ? ignore().add(lines) : undefined;
    this.hasExceptions = lines.some((l) => l.trim().startsWith('!'));
    this.realRoot = realpathSync(root);
  }

  static open(root: string, hashes: FileHashCache): BuildContext {
    let text: string | undefined;
    try {
      text = readFileSync(join(root, '.dockerignore'), 'utf8');
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
    return new BuildContext(root, text, hashes);
  }

  ignored(rel: string): boolean {
    return rel !== '' && this.ig !== undefined && this.ig.ignores(rel);
  }

  /**
   * The entries a COPY source names: one, or each match of a glob. `src` is relative to the
   * context root (a leading '/' too). Throws ContextError for a path outside the context and for
   * nothing found.
   */
  resolve(src: string): Entry[] {
    const norm = posix.normalize('/' + src).slice(1).replace(/\/$/, '');
    if (posix.normalize(src.replace(/^\/+/, '')).startsWith('..')) throw new ContextError(`${JSON.stringify(src)}: path outside the build context`);
    if (GLOB.test(norm)) {
      const out: Entry[] = [];
      this.glob(norm.split('/'), '', out);
      if (out.length === 0) throw new ContextError(`${JSON.stringify(src)}: no source files were specified (no match in the build context, or all excluded by .dockerignore)`);
      return out;
    }
    const e = this.entry(norm, src);
    return [e];
  }

  private entry(rel: string, src: string, follow = true): Entry {
    const abs = rel === '' ? this.root : join(this.root, rel);
    let st: Stats;
    try {
      st = lstatSync(abs);
    } catch {
      throw new ContextError(`${JSON.stringify(src)}: file not found in build context or excluded by .dockerignore`);
    }
    if (!this.visible(rel)) throw new ContextError(`${JSON.stringify(src)}: file not found in build context or excluded by .dockerignore`);
    // A source named as such is followed when it is a symlink (as Docker does), but only within
    // the context; a glob's matches are taken as they are (a link stays a link).
    if (!follow) return { rel, abs, st };
    const real = realpathSync(abs);
    if (real !== this.realRoot && !real.startsWith(this.realRoot + '/')) throw new ContextError(`${JSON.stringify(src)}: a symlink to ${JSON.stringify(readlinkSafe(abs) ?? real)}, outside the build context`);
    if (st.isSymbolicLink()) st = statSync(abs);
    return { rel, abs: real === abs ? abs : real, st };
  }

  private glob(parts: string[], base: string, out: Entry[]): void {
    const [head, ...rest] = parts;
    if (head === undefined) return;
    const dirAbs = base === '' ? this.root : join(this.root, base);
    if (!GLOB.test(head)) {
      const rel = base === '' ? head : `${base}/${head}`;
      if (rest.length === 0) {
        try {
          lstatSync(join(this.root, rel));
        } catch {
          return;
        }
        if (this.visible(rel)) out.push(this.entry(rel, rel));
      } else this.glob(rest, rel, out);
      return;
    }
    let names: string[];
    try {
      names = readdirSync(dirAbs).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (!matchComponent(head, n)) continue;
      const rel = base === '' ? n : `${base}/${n}`;
      if (rest.length === 0) {
        if (this.visible(rel)) out.push(this.entry(rel, rel, false));
      } else this.glob(rest, rel, out);
    }
  }

  /**
   * Every entry below a directory entry (not the directory itself), parents before children,
   * sorted; .dockerignore'd paths left out (their directories still walked when an exception
   * pattern could bring something back).
   */
  walk(dir: Entry): Entry[] {
    const rec = (abs: string, rel: string): Entry[] => {
      const out: Entry[] = [];
      for (const n of readdirSync(abs).sort()) {
        const a = join(abs, n);
        const r = rel === '' ? n : `${rel}/${n}`;
        const st = lstatSync(a);
        const ign = this.ignored(r);
        if (st.isDirectory()) {
          if (ign && !this.hasExceptions) continue;
          const below = rec(a, r);
          // An excluded directory is still there when an exception brings back something in it.
          if (!ign || below.length > 0) out.push({ rel: r, abs: a, st }, ...below);
        } else if (!ign) out.push({ rel: r, abs: a, st });
      }
      return out;
    };
    return rec(dir.abs, dir.rel);
  }

  /** Whether a path is in the context as .dockerignore leaves it (see walk for directories). */
  private visible(rel: string): boolean {
    if (!this.ignored(rel)) return true;
    if (!this.hasExceptions) return false;
    const abs = join(this.root, rel);
    try {
      if (!lstatSync(abs).isDirectory()) return false;
    } catch {
      return false;
    }
    return this.walk({ rel, abs, st: lstatSync(abs) }).length > 0;
  }

  /** The content digest of a regular file. */
  fileDigest(e: Entry): string {
    return this.hashes.digest(e.abs, e.st);
  }

  /**
   * A digest of what copying these sources reads: paths, types, permission bits, file contents
   * and link targets (not owners and not times, which COPY does not keep).
   */
  digestSources(sources: Entry[]): string {
    const h = nodeCrypto().createHash('sha256');
    for (const s of sources) {
      h.update(`src ${s.rel}\n`);
      const list = s.st.isDirectory() ? [s, ...this.walk(s)] : [s];
      for (const e of list) {
        const mode = (e.st.mode & 0o7777).toString(8);
        if (e.st.isDirectory()) h.update(`d ${e.rel} ${mode}\n`);
        else if (e.st.isSymbolicLink()) h.update(`l ${e.rel} ${readlinkSync(e.abs)}\n`);
        else if (e.st.isFile()) h.update(`f ${e.rel} ${mode} ${this.fileDigest(e)}\n`);
        else h.update(`o ${e.rel} ${mode} ${e.st.rdev}\n`);
      }
    }
    return 'sha256:' + h.digest('hex');
  }
}

function readlinkSafe(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}
