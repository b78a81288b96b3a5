/**
 * The build cache: step key → the layer the step made (or none) and when. One small JSON file per
 * key under `<root>/buildcache/records/`, written to a temporary name and renamed into place.
 * The engine's garbage collection keeps the layers and blobs these records name (engine/images.ts
 * reads the same files), and `builder prune` removes them.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerRecord } from '../image/index.js';

export interface CacheEntry {
  layer: LayerRecord | null;
  created: string;
}

const hex = (key: string) => key.replace(/^sha256:/, '');

export class BuildCache {
  readonly records: string;
  constructor(readonly dir: string) {
    this.records = join(dir, 'records');
  }

  get(key: string): CacheEntry | undefined {
    try {
      return JSON.parse(readFileSync(join(this.records, hex(key) + '.json'), 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
  }

  put(key: string, e: CacheEntry): void {
    mkdirSync(this.records, { recursive: true });
    const file = join(this.records, hex(key) + '.json');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(e));
    renameSync(tmp, file);
  }

  delete(key: string): void {
    rmSync(join(this.records, hex(key) + '.json'), { force: true });
  }

  /** What an earlier run of a COPY wrote (for hard-linking unchanged files): by instruction key. */
  getReuse(key: string): { chainId: string; files: Record<string, string> } | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'reuse', hex(key) + '.json'), 'utf8')) as { chainId: string; files: Record<string, string> };
    } catch {
      return undefined;
    }
  }

  putReuse(key: string, v: { chainId: string; files: Record<string, string> }): void {
    const dir = join(this.dir, 'reuse');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, hex(key) + '.json');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(v));
    renameSync(tmp, file);
  }

  /** Removes every record (and the cache mounts and file digests); returns how many records went. */
  prune(): number {
    let names: string[] = [];
    try {
      names = readdirSync(this.records);
    } catch {
      names = [];
    }
    rmSync(this.dir, { recursive: true, force: true });
    return names.filter((n) => n.endsWith('.json')).length;
  }
}
