/**
 * The wire format of berth-helper's plan: op codes mirrored from native/ops.h (a unit test checks
 * that the two agree) and an encoder. A plan is a u32 total length followed by records
 * (u32 op, u32 len, payload); a payload is u64 little-endian numbers and NUL-terminated strings.
 */
export const Op = {
  END: 0,
  SETNS: 1,
  CLONE: 2,
  MOUNT: 3,
  MKDIR: 4,
  MKNOD: 5,
  TOUCH: 6,
  SYMLINK: 7,
  CHDIR: 8,
  PIVOT_ROOT: 9,
  MOVE_ROOT: 10,
  MASK: 11,
  READONLY: 12,
  WRITE_FILE: 13,
  SETHOSTNAME: 14,
  SETDOMAINNAME: 15,
  RLIMIT: 16,
  UMASK: 17,
  SETSID: 18,
  CONSOLE_CONNECT: 19,
  CONSOLE_SETUP: 20,
  IDENTITY: 21,
  CAPS: 22,
  NO_NEW_PRIVS: 23,
  SECCOMP: 24,
  RESOLVE_EXEC: 25,
  READY: 26,
  OPEN_FIFO: 27,
  WAIT_FIFO: 28,
  EXEC: 29,
  SYNC: 30,
  RUN_HOOK: 31,
  PRESERVE_FDS: 32,
  PERSONALITY: 33,
  UNSHARE: 34,
  CGROUP_TASKS: 35,
  CHROOT: 36,
  FS_MODE: 37,
  SETXATTR: 38,
  UMOUNT: 39,
  LCHOWN: 40,
  UTIMES: 41,
  LOG: 42,
  EXIT_COMMAND: 43,
  HEALTH: 44,
  PTY: 45,
  ATTACH: 46,
  LO_UP: 47,
  CGROUP_INTO: 48,
  BPF_MAP: 49,
  BPF_PROG: 50,
  BPF_UPDATE: 51,
  BPF_DETACH: 52,
  ROOTED: 53,
} as const;
export type OpName = keyof typeof Op;

/**
 * The requests of a rooted session (OP_ROOTED, native/rooted.c), mirrored from the RQ_ codes of
 * native/ops.h: records in the plan's layout after the plan; answers are u32 errno, u32 len,
 * payload.
 */
export const Rq = {
  STAT: 1,
  READLINK: 2,
  READDIR: 3,
  OPEN: 4,
  READ: 5,
  CREATE: 6,
  WRITE: 7,
  CLOSE: 8,
  MKDIR: 9,
  SYMLINK: 10,
  LINK: 11,
  MKNOD: 12,
  LCHOWN: 13,
  UTIMES: 14,
  UNLINK: 15,
  RMDIR: 16,
  CHMOD: 17,
  SETXATTR: 18,
  LISTXATTR: 19,
  GETXATTR: 20,
  FSETMETA: 21,
  FSETXATTR: 22,
} as const;
export type RqName = keyof typeof Rq;

/** A field of a record: a number (u64), a bigint (u64), a string (NUL-terminated), or raw bytes. */
export type Field = number | bigint | string | Buffer;

export interface PlanOp {
  op: OpName;
  fields: Field[];
  /** What the op does, in words, for error messages: `mount "proc" on "/proc"`. */
  what: string;
}

function fieldSize(f: Field): number {
  if (typeof f === 'number' || typeof f === 'bigint') return 8;
  if (typeof f === 'string') return Buffer.byteLength(f) + 1;
  return f.length;
}

/** The size of a record (header and payload) of these fields. */
function recordSize(fields: readonly Field[]): number {
  let n = 8;
  for (const f of fields) n += fieldSize(f);
  return n;
}

/** Writes one record (u32 code, u32 len, payload) at `off`; returns the offset after it. */
function putRecord(buf: Buffer, off: number, code: number, fields: readonly Field[]): number {
  const start = off;
  off += 8;
  for (const f of fields) {
    if (typeof f === 'number') {
      if (!Number.isInteger(f)) throw new TypeError(`plan field ${f} is not an integer`);
      if (f >= 0 && f <= 0xffffffff) {
        // The common case without BigInt: low word, then a zero high word.
        buf.writeUInt32LE(f, off);
        buf.writeUInt32LE(0, off + 4);
      } else buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(f)), off);
      off += 8;
    } else if (typeof f === 'bigint') {
      buf.writeBigUInt64LE(BigInt.asUintN(64, f), off);
      off += 8;
    } else if (typeof f === 'string') {
      if (f.includes('\0')) throw new TypeError(`plan string contains a NUL byte: ${JSON.stringify(f)}`);
      off += buf.write(f, off);
      buf[off++] = 0;
    } else {
      f.copy(buf, off);
      off += f.length;
    }
  }
  buf.writeUInt32LE(code, start);
  buf.writeUInt32LE(off - start - 8, start + 4);
  return off;
}

/** Encodes ops (an END record is appended) into the bytes the helper reads. */
export function encodePlan(ops: readonly PlanOp[]): Buffer {
  let total = 8; // END
  for (const o of ops) total += recordSize(o.fields);
  const buf = Buffer.alloc(4 + total);
  buf.writeUInt32LE(total, 0);
  let off = 4;
  for (const o of ops) off = putRecord(buf, off, Op[o.op], o.fields);
  putRecord(buf, off, Op.END, []);
  return buf;
}

/** Encodes one record of a rooted session (the same layout as a plan's records). */
export function encodeRecord(code: number, fields: readonly Field[]): Buffer {
  const buf = Buffer.alloc(recordSize(fields));
  putRecord(buf, 0, code, fields);
  return buf;
}

/** Decodes a plan's record headers (for tests and debugging): op names and payload sizes. */
export function decodePlanHeaders(buf: Buffer): { op: OpName | number; len: number }[] {
  const names = new Map<number, OpName>(Object.entries(Op).map(([k, v]) => [v, k as OpName]));
  const total = buf.readUInt32LE(0);
  const out: { op: OpName | number; len: number }[] = [];
  let off = 4;
  while (off + 8 <= 4 + total) {
    const code = buf.readUInt32LE(off);
    const len = buf.readUInt32LE(off + 4);
    out.push({ op: names.get(code) ?? code, len });
    off += 8 + len;
  }
  return out;
}
