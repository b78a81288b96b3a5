import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let packageRoot: string | undefined;

/** The directory of berth's package (where package.json and native/ live), found from this file. */
export function berthPackageRoot(): string {
  if (packageRoot !== undefined) return packageRoot;
  // In the CommonJS bundle __dirname is defined; in ESM (tests) it is not.
  let dir = typeof __dirname !== 'undefined' ? __dirname : dirname(fileURLToPath(import.meta.url));
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
