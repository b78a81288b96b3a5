/**
 * A user's own archive file (an `ADD` source from the context, a build context given as a tar on
 * stdin) unpacked into a tree: plain, gzip or zstd by berth's own code, bzip2 and xz by the host's
 * tools reading that file (the user's bytes, not a container's tree). The entries are written only
 * through a rooted session on the destination, so nothing a tree already holds (a link a RUN
 * planted) leads outside it, and no name in the archive climbs out of it.
 */
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { decompressTar, extractInto } from '../snapshot/index.js';
import { withRooted } from '../sys/rooted.js';

export async function extractArchiveFile(archive: string, root: string, dest: string, what: string, opts: { sameOwner: boolean }): Promise<void> {
  const head = Buffer.alloc(6);
  const fd = openSync(archive, 'r');
  try {
    readSync(fd, head, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  const tool = head.toString('latin1', 0, 3) === 'BZh' ? 'bzip2' : head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) ? 'xz' : undefined;
  const child = tool ? spawn(tool, ['-dc', archive], { stdio: ['ignore', 'pipe', 'pipe'] }) : undefined;
  const src = child ? child.stdout! : createReadStream(archive);
  try {
    await withRooted(root, (fs) => extractInto(fs, dest, decompressTar(src, what), { sameOwner: opts.sameOwner, what }));
  } finally {
    child?.kill();
  }
}
