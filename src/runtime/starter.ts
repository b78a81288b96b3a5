/**
 * The starter root filesystem: the host's static busybox and a link per applet. Until the image
 * store exists this is what `berth starter` and the tests run containers from.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { notFound } from '../lib/errors.js';

export const BUSYBOX_CANDIDATES = ['/usr/bin/busybox', '/bin/busybox', '/usr/lib/busybox/busybox'];

export function findStaticBusybox(): string {
  for (const p of [process.env.BERTH_BUSYBOX ?? '', ...BUSYBOX_CANDIDATES]) {
    if (p && existsSync(p)) return p;
  }
  throw notFound('busybox not found (install busybox-static, or set BERTH_BUSYBOX)');
}

/** Writes a busybox root filesystem into `dir` (created if missing). */
export function makeBusyboxRootfs(dir: string, busybox = findStaticBusybox()): void {
  for (const d of ['bin', 'dev', 'proc', 'sys', 'etc', 'tmp', 'root', 'home', 'var', 'run', 'usr/bin', 'usr/sbin', 'sbin']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(busybox, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) {
    const link = join(dir, 'bin', a);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  writeFileSync(join(dir, 'etc', 'hostname'), 'berth\n');
}
