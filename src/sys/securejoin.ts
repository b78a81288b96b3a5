import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { invalidArgument } from '../lib/errors.js';

/**
 * Joins `unsafe` (a path inside a container) onto `root` (a host directory), resolving symlinks
 * as if `root` were "/": no symlink or `..` can lead outside `root`. Missing components are kept
 * as they are.
 */
export function secureJoin(root: string, unsafe: string): string {
  const parts = unsafe.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = posix.join(root, ...done, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      isLink = false;
    }
    if (!isLink) {
      done.push(part);
      continue;
    }
    if (++links > 255) throw invalidArgument(`resolve ${JSON.stringify(unsafe)} in ${JSON.stringify(root)}: too many levels of symbolic links`);
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) done.length = 0;
    parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return posix.join(root, ...done);
}
