/**
 * Node built-in modules that cost milliseconds to load (node:crypto about 3 ms here, zlib and
 * fs/promises about 1 ms each), loaded on first use instead of at start-up: most commands never
 * hash, decompress or use promise file handles, and every command pays for what is imported.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

// In the CommonJS bundle (dist/) __filename is the bundle; in the ES modules of build/ it is not
// defined and import.meta.url is.
const load = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);

let crypto: typeof import('node:crypto') | undefined;
let zlib: typeof import('node:zlib') | undefined;
let fsp: typeof import('node:fs/promises') | undefined;

export const nodeCrypto = (): typeof import('node:crypto') => (crypto ??= load('node:crypto') as typeof import('node:crypto'));
export const nodeZlib = (): typeof import('node:zlib') => (zlib ??= load('node:zlib') as typeof import('node:zlib'));
export const nodeFsPromises = (): typeof import('node:fs/promises') => (fsp ??= load('node:fs/promises') as typeof import('node:fs/promises'));

/** N random bytes from the kernel's generator, without loading node:crypto (ids, temporary names). */
export function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let off = 0; off < n; ) off += readSync(fd, b, off, n - off, null);
  } finally {
    closeSync(fd);
  }
  return b;
}
