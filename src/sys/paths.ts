import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let packageRoot: string | undefined;

/** The directory of berth's package (where package.json and native/ live), found from this file. */
export function berthPackageRoot(): string {
  if (packageRoot !== undefined) return packageRoot;
  // ESM (tests): import.meta.url. The CommonJS bundle has no import.meta (esbuild leaves an empty
  // object): __dirname. (Under `node -e` a global __dirname of "." exists, so ESM goes first.)
  const metaUrl = (import.meta as { url?: string }).url;
  let dir = metaUrl ? dirname(fileURLToPath(metaUrl)) : __dirname;
  for (;;) {
    if (existsSync(join(dir, 'native', 'ops.h'))) return (packageRoot = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find berth package root (native/ops.h) above ' + dir);
    dir = up;
  }
}

/** Path of the compiled C helper; BERTH_HELPER overrides it. */
export function helperPath(): string {
  return process.env.BERTH_HELPER || join(berthPackageRoot(), 'native', 'out', 'berth-helper');
}

/**
 * The command line that runs berth's CLI from berth itself (a monitor's exit command, a health
 * check): Node with the flags bin/berth gives it (V8 keeps a code cache per flag set, so the two
 * must agree), the launcher and the bundle's name.
 */
export function berthCli(): string[] {
  return [process.execPath, '--single-threaded-gc', join(berthPackageRoot(), 'bin', 'launch.cjs'), 'berth'];
}
