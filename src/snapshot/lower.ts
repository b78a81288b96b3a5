/**
 * The merged view of a stack of overlay layer directories, read the way overlayfs reads it, without
 * following any symlink: the topmost layer that has a name decides; a whiteout (char 0/0) hides
 * it below; a directory merges with directories below it until a layer where it is opaque or not
 * a directory. Opaque directories are known from each layer's record (set when it was applied),
 * so no xattr has to be read here.
 */
import { readdirSync, type Stats } from 'node:fs';
import { isWhiteout, lstatOrNull } from './fsutil.js';

export interface LowerLayer {
  /** The layer's directory. */
  dir: string;
  /** Its opaque directories (relative paths). */
  opaque: ReadonlySet<string>;
}

/** A directory of the merged view: the layers that contribute to it, top first. */
export interface MergedDir {
  rel: string;
  parts: { layer: LowerLayer; abs: string }[];
}

export interface Found {
  st: Stats;
  /** The path of the entry in the topmost layer that has it. */
  abs: string;
  /** When it is a directory: its merged view. */
  dir?: MergedDir;
}

export function rootOf(layers: readonly LowerLayer[]): MergedDir {
  return { rel: '', parts: layers.map((layer) => ({ layer, abs: layer.dir })) };
}

const join = (a: string, b: string) => (a === '' ? b : `${a}/${b}`);

/** `name` in a merged directory, or undefined when absent or whited out. */
export function childOf(d: MergedDir, name: string): Found | undefined {
  const rel = join(d.rel, name);
  let found: Found | undefined;
  for (const part of d.parts) {
    const abs = `${part.abs}/${name}`;
    const st = lstatOrNull(abs);
    if (!st) continue;
    if (isWhiteout(st)) break;
    if (!found) {
      found = { st, abs };
      if (!st.isDirectory()) break;
      found.dir = { rel, parts: [] };
    } else if (!st.isDirectory()) break;
    found.dir!.parts.push({ layer: part.layer, abs });
    if (part.layer.opaque.has(rel)) break;
  }
  return found;
}

/** The entry at `rel` in the merged view of `layers`, or undefined. */
export function lookup(layers: readonly LowerLayer[], rel: string): Found | undefined {
  if (layers.length === 0) return undefined;
  let d = rootOf(layers);
  const parts = rel.split('/');
  for (let i = 0; i < parts.length; i++) {
    const f = childOf(d, parts[i]!);
    if (!f) return undefined;
    if (i === parts.length - 1) return f;
    if (!f.dir) return undefined;
    d = f.dir;
  }
  return undefined;
}

/** The names in a merged directory (whited-out names left out), sorted. */
export function childrenOf(d: MergedDir): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of d.parts) {
    let names: string[];
    try {
      names = readdirSync(part.abs);
    } catch {
      continue;
    }
    for (const n of names) {
      if (seen.has(n)) continue;
      seen.add(n);
      const st = lstatOrNull(`${part.abs}/${n}`);
      if (st && !isWhiteout(st)) out.push(n);
    }
  }
  return out.sort();
}
