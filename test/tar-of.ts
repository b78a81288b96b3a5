/** A tar archive of the given entries, for tests that feed berth hand-made (and hostile) layers and streams. */
import tarStream from 'tar-stream';

export interface TarIn {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
}

export async function tarOf(entries: TarIn[]): Promise<Buffer> {
  const p = tarStream.pack();
  for (const e of entries) {
    const { body, ...h } = e;
    const type = h.type ?? 'file';
    const header = { mtime: new Date(1_600_000_000_000), ...h, type } as tarStream.Header;
    if (type === 'file') p.entry(header, body ?? '');
    else p.entry(header);
  }
  p.finalize();
  const out: Buffer[] = [];
  for await (const c of p) out.push(c as Buffer);
  return Buffer.concat(out);
}
