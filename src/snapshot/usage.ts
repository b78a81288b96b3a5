/**
 * How many bytes a tree holds, as Docker counts a container's writable layer or a volume (moby's
 * directory.Size): the sizes of everything that is not a directory, a hard-linked inode once,
 * read through a rooted session so that a link the container planted is never followed.
 */
import type { RootedFs } from '../sys/rooted.js';

export async function treeSize(fs: RootedFs, path = '/'): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir);
    } catch {
      return; // removed meanwhile, or not a directory any more
    }
    for (const e of entries) {
      const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
      let st;
      try {
        st = await fs.lstat(p);
      } catch {
        continue;
      }
      if (st.type === 'dir') await walk(p);
      else if (st.size > 0) {
        const k = `${st.dev}:${st.ino}`;
        if (seen.has(k)) continue;
        seen.add(k);
        total += st.size;
      }
    }
  };
  await walk(path);
  return total;
}
