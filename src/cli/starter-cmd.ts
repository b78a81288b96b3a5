import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec, makeBusyboxRootfs } from '../engine/index.js';

/** `berth bundle DIR [CMD...]`: a runnable busybox bundle. */
export function writeStarterBundle(dir: string, args: string[]): void {
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  makeBusyboxRootfs(join(dir, 'rootfs'));
  const spec = defaultSpec({ args: args.length ? args : ['sh'] });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2) + '\n');
}
