/**
 * A streaming tar reader and a header writer for layer tars (ustar, PAX, GNU long names).
 *
 * Why not tar-stream here: tar-stream v3 decodes PAX records as UTF-8 strings, so a binary xattr
 * value (security.capability holds arbitrary bytes) is corrupted on read, and its packer can only
 * write PAX records from strings; it also cannot tell a clean end of archive from a stream cut
 * at a header boundary. Layer application is a security boundary and must keep xattrs byte for
 * byte, so the format is handled here (tests build their input tars with tar-stream, which checks
 * this reader against an independent writer).
 *
 * The reader is push-based and synchronous: `write(chunk)` hands it bytes, `next()` returns the
 * next event (an entry's header, a slice of a regular file's data, the end of an entry) or null
 * when it needs more input; `finish()` checks that the archive ended cleanly.
 */

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** The name as stored (PAX path, GNU long name or ustar prefix/name), not cleaned. */
  name: string;
  /** Symlink target or hardlink target ('' if none). */
  linkname: string;
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky (& 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Size of the entry's data (regular files only; 0 for the rest). */
  size: number;
  mtimeNs: bigint;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* PAX records, byte for byte. */
  xattrs: Map<string, Buffer> | undefined;
}

export type TarEvent = { kind: 'entry'; entry: TarEntry } | { kind: 'data'; data: Buffer } | { kind: 'end-entry' };

/** A malformed or truncated archive; the message is the reason in words. */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

const BLOCK = 512;
const MAX_PAX = 16 << 20; // xattrs can be large; 16 MiB of PAX records per entry at most
const MAX_LONGNAME = 1 << 20;
const EMPTY = Buffer.alloc(0);

const pad = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i += 4) if (b.readUInt32LE(i) !== 0) return false;
  return true;
}

/** A NUL-terminated string field. */
function str(b: Buffer, off: number, len: number): string {
  let end = off;
  const lim = off + len;
  while (end < lim && b[end] !== 0) end++;
  return b.toString('utf8', off, end);
}

/** A numeric field: octal text (spaces and NULs around it) or GNU base-256. */
function num(b: Buffer, off: number, len: number, what: string): number {
  if (b[off]! & 0x80) {
    if (b[off]! & 0x40) throw new TarFormatError(`invalid tar header: negative ${what}`);
    let v = b[off]! & 0x3f;
    for (let i = 1; i < len; i++) {
      v = v * 256 + b[off + i]!;
      if (v > Number.MAX_SAFE_INTEGER) throw new TarFormatError(`invalid tar header: ${what} too large`);
    }
    return v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  while (i < end && b[i]! >= 0x30 && b[i]! <= 0x37) {
    v = v * 8 + (b[i]! - 0x30);
    i++;
    digits++;
  }
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  if (i !== end) throw new TarFormatError(`invalid tar header: bad ${what} field`);
  if (v > Number.MAX_SAFE_INTEGER) throw new TarFormatError(`invalid tar header: ${what} too large`);
  return digits === 0 ? 0 : v;
}

function checksumOk(b: Buffer): boolean {
  let stored: number;
  try {
    stored = num(b, 148, 8, 'checksum');
  } catch {
    return false;
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += c;
    signed += c >= 0x80 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

/** "1234.5678" (seconds, optional fraction, optional sign) → nanoseconds. */
function parsePaxTime(v: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(v);
  if (!m) throw new TarFormatError(`invalid tar header: bad PAX time ${JSON.stringify(v)}`);
  const frac = (m[3] ?? '').slice(0, 9).padEnd(9, '0');
  const ns = BigInt(m[2]!) * 1_000_000_000n + BigInt(frac);
  return m[1] ? -ns : ns;
}

function parsePaxInt(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw new TarFormatError(`invalid tar header: bad PAX ${what} ${JSON.stringify(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new TarFormatError(`invalid tar header: PAX ${what} too large`);
  return n;
}

interface Pax {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtimeNs?: bigint;
  xattrs?: Map<string, Buffer>;
}

/** PAX extended header records: "LEN KEY=VALUE\n", LEN counting the whole record in bytes. */
export function parsePax(buf: Buffer): Pax {
  const pax: Pax = {};
  let off = 0;
  while (off < buf.length) {
    // Some writers pad the body with NULs.
    if (buf[off] === 0) break;
    let sp = off;
    while (sp < buf.length && buf[sp] !== 0x20) sp++;
    const lenText = buf.toString('latin1', off, sp);
    if (sp >= buf.length || !/^\d+$/.test(lenText)) throw new TarFormatError('invalid tar header: malformed PAX record');
    const len = Number(lenText);
    const end = off + len;
    if (len <= sp - off + 1 || end > buf.length || buf[end - 1] !== 0x0a) throw new TarFormatError('invalid tar header: malformed PAX record');
    const eq = buf.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= end - 1) throw new TarFormatError('invalid tar header: malformed PAX record');
    const key = buf.toString('utf8', sp + 1, eq);
    const raw = buf.subarray(eq + 1, end - 1);
    off = end;
    if (key.startsWith('SCHILY.xattr.')) {
      const name = key.slice('SCHILY.xattr.'.length);
      if (name === '') throw new TarFormatError('invalid tar header: PAX xattr without a name');
      (pax.xattrs ??= new Map()).set(name, Buffer.from(raw));
      continue;
    }
    if (key.startsWith('GNU.sparse.')) throw new TarFormatError('sparse files are not supported');
    const v = raw.toString('utf8');
    switch (key) {
      case 'path':
        pax.path = v;
        break;
      case 'linkpath':
        pax.linkpath = v;
        break;
      case 'size':
        pax.size = parsePaxInt(v, 'size');
        break;
      case 'uid':
        pax.uid = parsePaxInt(v, 'uid');
        break;
      case 'gid':
        pax.gid = parsePaxInt(v, 'gid');
        break;
      case 'mtime':
        pax.mtimeNs = parsePaxTime(v);
        break;
      default: // atime, ctime, uname, gname, comment, charset, SCHILY.dev/ino/nlink, LIBARCHIVE.*: not needed
        break;
    }
  }
  return pax;
}

type State = 'header' | 'body' | 'skip' | 'meta' | 'pad' | 'done';

export class TarParser {
  private chunk: Buffer = EMPTY;
  private off = 0;
  private readonly hdr = Buffer.alloc(BLOCK);
  private hdrFill = 0;
  private state: State = 'header';
  private remaining = 0;
  private padding = 0;
  private endPending = false;
  private zeroBlocks = 0;
  private metaType = 0;
  private metaParts: Buffer[] = [];
  private pax: Pax | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  /** Bytes of archive consumed so far (for messages). */
  private pos = 0;
  private sawAny = false;

  /** Gives the parser the next chunk; call next() until it returns null before writing again. */
  write(chunk: Buffer): void {
    if (this.off < this.chunk.length && this.state !== 'done') throw new Error('TarParser.write: previous chunk not consumed');
    this.chunk = chunk;
    this.off = 0;
    if (chunk.length) this.sawAny = true;
  }

  /** True once the end-of-archive marker was read; later bytes are ignored. */
  get ended(): boolean {
    return this.state === 'done';
  }

  next(): TarEvent | null {
    for (;;) {
      if (this.endPending) {
        this.endPending = false;
        return { kind: 'end-entry' };
      }
      const avail = this.chunk.length - this.off;
      switch (this.state) {
        case 'done':
          this.off = this.chunk.length;
          return null;
        case 'header': {
          let block: Buffer;
          if (this.hdrFill === 0 && avail >= BLOCK) {
            block = this.chunk.subarray(this.off, this.off + BLOCK);
            this.off += BLOCK;
          } else {
            if (avail === 0) return null;
            const n = Math.min(avail, BLOCK - this.hdrFill);
            this.chunk.copy(this.hdr, this.hdrFill, this.off, this.off + n);
            this.off += n;
            this.hdrFill += n;
            if (this.hdrFill < BLOCK) return null;
            this.hdrFill = 0;
            block = this.hdr;
          }
          const at = this.pos;
          this.pos += BLOCK;
          const ev = this.header(block, at);
          if (ev) return ev;
          continue;
        }
        case 'body':
        case 'skip':
        case 'meta': {
          if (this.remaining === 0) {
            if (this.state === 'meta') this.endMeta();
            else if (this.state === 'body') this.endPending = true;
            this.state = 'pad';
            continue;
          }
          if (avail === 0) return null;
          const n = Math.min(avail, this.remaining);
          const data = this.chunk.subarray(this.off, this.off + n);
          this.off += n;
          this.pos += n;
          this.remaining -= n;
          if (this.state === 'body') return { kind: 'data', data };
          if (this.state === 'meta') this.metaParts.push(Buffer.from(data));
          continue;
        }
        case 'pad': {
          if (this.padding === 0) {
            this.state = 'header';
            continue;
          }
          if (avail === 0) return null;
          const n = Math.min(avail, this.padding);
          this.off += n;
          this.pos += n;
          this.padding -= n;
          continue;
        }
      }
    }
  }

  /** Checks that the input ended at the end-of-archive marker (one or two zero blocks). */
  finish(): void {
    if (this.state === 'done') return;
    if (!this.sawAny) return; // an empty stream is an empty layer
    if (this.state === 'header' && this.hdrFill === 0 && this.zeroBlocks === 1) return;
    throw new TarFormatError('unexpected end of tar');
  }

  private header(b: Buffer, at: number): TarEvent | null {
    if (isZeroBlock(b)) {
      if (++this.zeroBlocks === 2) {
        this.state = 'done';
        this.off = this.chunk.length;
      }
      return null;
    }
    if (this.zeroBlocks > 0) throw new TarFormatError(`invalid tar header at byte ${at}: data after the end-of-archive block`);
    if (!checksumOk(b)) throw new TarFormatError(`invalid tar header at byte ${at}: checksum mismatch`);
    const flag = b[156]!;
    let size = num(b, 124, 12, 'size');
    const ch = String.fromCharCode(flag);
    // Extended headers: their body describes the next entry.
    if (ch === 'x' || ch === 'g' || ch === 'L' || ch === 'K') {
      const limit = ch === 'x' || ch === 'g' ? MAX_PAX : MAX_LONGNAME;
      if (size > limit) throw new TarFormatError(`invalid tar header at byte ${at}: extended header of ${size} bytes`);
      this.metaType = flag;
      this.metaParts = [];
      this.state = 'meta';
      this.remaining = size;
      this.padding = pad(size);
      return null;
    }
    if (ch === 'S') throw new TarFormatError('sparse files are not supported');
    const magic = b.toString('latin1', 257, 263);
    const ustar = magic === 'ustar\0';
    let name = str(b, 0, 100);
    if (ustar) {
      const star = b.toString('latin1', 508, 512) === 'tar\0';
      const prefix = str(b, 345, star ? 131 : 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let linkname = str(b, 157, 100);
    const pax = this.pax;
    if (this.longName !== undefined) name = this.longName;
    if (this.longLink !== undefined) linkname = this.longLink;
    if (pax?.path !== undefined) name = pax.path;
    if (pax?.linkpath !== undefined) linkname = pax.linkpath;
    if (pax?.size !== undefined) size = pax.size;
    this.pax = undefined;
    this.longName = undefined;
    this.longLink = undefined;

    let type: EntryType;
    switch (ch) {
      case '0':
      case '\0':
      case '7':
        type = name.endsWith('/') ? 'dir' : 'file';
        break;
      case '1':
        type = 'link';
        break;
      case '2':
        type = 'symlink';
        break;
      case '3':
        type = 'char';
        break;
      case '4':
        type = 'block';
        break;
      case '5':
      case 'D': // GNU dumpdir: a directory with a listing as its body
        type = 'dir';
        break;
      case '6':
        type = 'fifo';
        break;
      case 'V': // volume label: not a file
        this.state = 'skip';
        this.remaining = size;
        this.padding = pad(size);
        return null;
      default:
        throw new TarFormatError(`entry ${JSON.stringify(name)}: unsupported tar entry type ${JSON.stringify(ch)}`);
    }
    const entry: TarEntry = {
      name,
      linkname,
      type,
      mode: num(b, 100, 8, 'mode') & 0o7777,
      uid: pax?.uid ?? num(b, 108, 8, 'uid'),
      gid: pax?.gid ?? num(b, 116, 8, 'gid'),
      size: type === 'file' ? size : 0,
      mtimeNs: pax?.mtimeNs ?? BigInt(num(b, 136, 12, 'mtime')) * 1_000_000_000n,
      devmajor: type === 'char' || type === 'block' ? num(b, 329, 8, 'devmajor') : 0,
      devminor: type === 'char' || type === 'block' ? num(b, 337, 8, 'devminor') : 0,
      xattrs: pax?.xattrs,
    };
    this.remaining = size;
    this.padding = pad(size);
    if (type === 'file') {
      this.state = 'body';
    } else {
      // Other entries carry no data; skip whatever a writer put there.
      this.state = 'skip';
      this.endPending = true;
    }
    return { kind: 'entry', entry };
  }

  private endMeta(): void {
    const body = Buffer.concat(this.metaParts);
    this.metaParts = [];
    const ch = String.fromCharCode(this.metaType);
    if (ch === 'x') {
      const p = parsePax(body);
      // Several PAX headers in a row: later records win, xattrs accumulate.
      if (this.pax) {
        const before = this.pax.xattrs;
        Object.assign(this.pax, p);
        if (before && p.xattrs) {
          for (const [k, v] of p.xattrs) before.set(k, v);
          this.pax.xattrs = before;
        }
      } else this.pax = p;
    } else if (ch === 'g') {
      parsePax(body); // checked for form, then ignored (as Docker does)
    } else {
      const end = body.indexOf(0);
      const text = body.toString('utf8', 0, end < 0 ? body.length : end);
      if (ch === 'L') this.longName = text;
      else this.longLink = text;
    }
  }
}

// ---- writing ----

export interface HeaderFields {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds (written as is: diffs are deterministic and compatible with Docker's). */
  mtimeSec: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: ReadonlyMap<string, Buffer>;
}

const TYPEFLAG: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const MAX_OCTAL7 = 0o7777777;
const MAX_OCTAL11 = 0o77777777777;

function putStr(b: Buffer, off: number, len: number, s: string): void {
  b.write(s, off, len, 'utf8');
}
function putOctal(b: Buffer, off: number, len: number, v: number): void {
  b.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + String(body.length).length;
  if (String(len).length !== String(body.length).length) len = body.length + String(len).length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** Splits a name into ustar prefix and name if it can be stored without PAX. */
function ustarSplit(name: string): [string, string] | null {
  if (!isAscii(name)) return null;
  if (name.length <= 100) return ['', name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return [prefix, rest];
    if (prefix.length <= 155) break;
  }
  return null;
}

function rawHeader(f: {
  name: string;
  prefix: string;
  flag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  putStr(b, 0, 100, f.name);
  putOctal(b, 100, 8, f.mode & 0o7777);
  putOctal(b, 108, 8, f.uid);
  putOctal(b, 116, 8, f.gid);
  putOctal(b, 124, 12, f.size);
  putOctal(b, 136, 12, f.mtime);
  b.fill(0x20, 148, 156);
  b.write(f.flag, 156, 1, 'latin1');
  putStr(b, 157, 100, f.linkname);
  b.write('ustar\x0000', 257, 8, 'latin1');
  putOctal(b, 329, 8, f.devmajor);
  putOctal(b, 337, 8, f.devminor);
  putStr(b, 345, 155, f.prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/**
 * The header block(s) of one entry: a PAX header first when the name, link name, a number or
 * xattrs do not fit ustar, then the ustar header. Directory names get a trailing '/'.
 */
export function encodeHeader(h: HeaderFields): Buffer {
  const name = h.type === 'dir' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
  const linkname = h.linkname ?? '';
  const size = h.type === 'file' ? h.size : 0;
  const records: Buffer[] = [];
  let split = ustarSplit(name);
  if (!split) {
    records.push(paxRecord('path', Buffer.from(name)));
    const ascii = name.replace(/[^\x20-\x7e]/g, '_');
    split = ['', ascii.length > 100 ? ascii.slice(ascii.length - 100) : ascii];
  }
  let link = linkname;
  if (!isAscii(linkname) || linkname.length > 100) {
    records.push(paxRecord('linkpath', Buffer.from(linkname)));
    link = linkname.replace(/[^\x20-\x7e]/g, '_').slice(0, 100);
  }
  let uid = h.uid;
  let gid = h.gid;
  let sz = size;
  if (uid > MAX_OCTAL7) {
    records.push(paxRecord('uid', Buffer.from(String(uid))));
    uid = 0;
  }
  if (gid > MAX_OCTAL7) {
    records.push(paxRecord('gid', Buffer.from(String(gid))));
    gid = 0;
  }
  if (sz > MAX_OCTAL11) {
    records.push(paxRecord('size', Buffer.from(String(sz))));
    sz = 0;
  }
  let mtime = Math.max(0, Math.floor(h.mtimeSec));
  if (mtime > MAX_OCTAL11) {
    records.push(paxRecord('mtime', Buffer.from(String(mtime))));
    mtime = 0;
  }
  if (h.xattrs) {
    for (const k of [...h.xattrs.keys()].sort()) records.push(paxRecord(`SCHILY.xattr.${k}`, h.xattrs.get(k)!));
  }
  const main = rawHeader({
    name: split[1],
    prefix: split[0],
    flag: TYPEFLAG[h.type],
    mode: h.mode,
    uid,
    gid,
    size: sz,
    mtime,
    linkname: link,
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  });
  if (records.length === 0) return main;
  const body = Buffer.concat(records);
  const base = split[1].replace(/\/$/, '').split('/').pop() ?? '';
  const paxHdr = rawHeader({
    name: `PaxHeaders/${base}`.slice(0, 100),
    prefix: '',
    flag: 'x',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime,
    linkname: '',
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHdr, body, Buffer.alloc(pad(body.length)), main]);
}

/** Zeros that complete an entry's data to a whole block. */
export function dataPadding(size: number): Buffer {
  return Buffer.alloc(pad(size));
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
