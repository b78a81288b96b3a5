/**
 * OCI `linux.seccomp` → a classic BPF program (struct sock_filter[]) for
 * seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog). Pure TypeScript; no libseccomp.
 *
 * Semantics (OCI runtime spec, as runc + libseccomp apply them, with the differences noted):
 *
 * - Architectures. The filter accepts the native architecture plus every entry of `architectures`
 *   that berth has a syscall table for (x86_64, x86, x32, aarch64; see syscalls.ts). Names the spec
 *   knows but berth has no table for (SCMP_ARCH_ARM, SCMP_ARCH_S390X, ...) are ignored, so such
 *   syscalls meet the bad-arch action; names the spec does not know are an error.
 * - Bad arch. A syscall whose seccomp_data.arch is not accepted gets the bad-arch action:
 *   SECCOMP_RET_KILL_THREAD, as libseccomp's SCMP_FLTATR_ACT_BADARCH defaults to SCMP_ACT_KILL and
 *   runc and crun leave it so. `opts.badArchAction` can change it (e.g. SCMP_ACT_KILL_PROCESS).
 * - x32. x32 syscalls arrive with AUDIT_ARCH_X86_64 and nr | 0x40000000. As libseccomp does, a
 *   number with that bit never meets x86_64 rules: it goes to the x32 rules when SCMP_ARCH_X32 is
 *   accepted, and otherwise to the bad-arch action. (Giving it the default action instead would let
 *   x32 calls slip past a deny-list profile whose default is SCMP_ACT_ALLOW.)
 * - Rules. Every `syscalls[i]` entry adds, for each of its names that the architecture knows, one
 *   rule to that syscall. A syscall's rules are tried in the profile's order; the first whose
 *   conditions all hold decides; none holding means the default action. Unknown names are skipped
 *   per architecture, as runc does (it warns; we stay silent).
 * - Arguments are 64-bit and compared unsigned, high word and low word (little-endian
 *   seccomp_data). On SCMP_ARCH_X86 a syscall sees only the low 32 bits of a register, so there the
 *   high word is taken as zero rather than read: a 32-bit task cannot dodge a rule by setting upper
 *   register bits, and a value above 2^32-1 compares as the kernel would use it.
 * - Errno. SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry errnoRet (defaultErrnoRet for the default
 *   action), EPERM when absent, as runc does for both.
 *
 * Code shape: `ld arch`, one JEQ per accepted AUDIT_ARCH value, then per architecture `ld nr` and a
 * balanced binary search (JGE on interval starts) over the syscall-number intervals that share a
 * target, so a lookup costs about log2(intervals) jumps whatever the profile's size. A target is a
 * shared `ret` per action, or a condition chain shared by syscalls with identical rules (placed
 * inline in the tree when only one leaf uses it). Conditional jumps carry 8-bit offsets, so the
 * assembler resolves labels and, where a jump would reach further than 255 instructions, puts a
 * trampoline behind it (a copy of the `ret` it aims at, or a 32-bit `ja`), shared by later jumps
 * within reach. Docker's default profile (x86_64 + x86 + x32) comes to about 200 instructions;
 * programs over BPF_MAXINSNS (4096) are refused.
 */
import type { Seccomp, SeccompArg, SeccompSyscall } from '../../oci/runtime-spec.js';
import { invalidArgument } from '../../lib/errors.js';
import { SYSCALL_TABLES, type SyscallTable, type SyscallTableArch } from './syscalls.js';

// ---- kernel constants ----

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

export const X32_SYSCALL_BIT = 0x40000000;

/** The kernel's limit on one classic BPF program (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** Offsets into struct seccomp_data. */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
export const SECCOMP_DATA_ARGS = 16;

/** Classic BPF opcodes this compiler emits. */
export const BPF = {
  LD_W_ABS: 0x20, // BPF_LD | BPF_W | BPF_ABS
  ALU_AND_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  JMP_JA: 0x05, // BPF_JMP | BPF_JA
  JMP_JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JMP_JGT_K: 0x25, // BPF_JMP | BPF_JGT | BPF_K
  JMP_JGE_K: 0x35, // BPF_JMP | BPF_JGE | BPF_K
  JMP_JSET_K: 0x45, // BPF_JMP | BPF_JSET | BPF_K
  RET_K: 0x06, // BPF_RET | BPF_K
} as const;

// ---- public surface ----

export interface CompiledSeccomp {
  /** n*8 bytes: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }, little-endian. */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits from `flags`. */
  flags: number;
}

export interface CompileSeccompOptions {
  /**
   * The architecture the container's processes run as natively: an SCMP_ARCH_* name with a syscall
   * table. Default: from process.arch (x64 → SCMP_ARCH_X86_64, ia32 → SCMP_ARCH_X86,
   * arm64 → SCMP_ARCH_AARCH64).
   */
  nativeArch?: string;
  /** Action for a syscall from an architecture the filter does not accept. Default SCMP_ACT_KILL_THREAD. */
  badArchAction?: string;
}

/** The SCMP_ARCH_* names of the OCI runtime spec (and libseccomp). */
export const SECCOMP_ARCHES: readonly string[] = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
];

interface ArchInfo {
  audit: number;
  table: SyscallTable;
  /** The syscall sees only the low 32 bits of each argument register. */
  args32: boolean;
}

const ARCH_INFO: Readonly<Record<SyscallTableArch, ArchInfo>> = {
  SCMP_ARCH_X86_64: { audit: AUDIT_ARCH_X86_64, table: SYSCALL_TABLES.SCMP_ARCH_X86_64, args32: false },
  SCMP_ARCH_X86: { audit: AUDIT_ARCH_I386, table: SYSCALL_TABLES.SCMP_ARCH_X86, args32: true },
  SCMP_ARCH_X32: { audit: AUDIT_ARCH_X86_64, table: SYSCALL_TABLES.SCMP_ARCH_X32, args32: false },
  SCMP_ARCH_AARCH64: { audit: AUDIT_ARCH_AARCH64, table: SYSCALL_TABLES.SCMP_ARCH_AARCH64, args32: false },
};

function isTableArch(name: string): name is SyscallTableArch {
  return Object.hasOwn(ARCH_INFO, name);
}

/** The SCMP_ARCH_* name of this machine's architecture, or undefined when berth has no table for it. */
export function nativeSeccompArch(nodeArch: string = process.arch): SyscallTableArch | undefined {
  switch (nodeArch) {
    case 'x64':
      return 'SCMP_ARCH_X86_64';
    case 'ia32':
      return 'SCMP_ARCH_X86';
    case 'arm64':
      return 'SCMP_ARCH_AARCH64';
    default:
      return undefined;
  }
}

/** A syscall's number on an architecture, or undefined when that architecture has no such syscall. */
export function syscallNumber(arch: string, name: string): number | undefined {
  if (!isTableArch(arch)) return undefined;
  const table = ARCH_INFO[arch].table;
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

// ---- validation: spec → normalized rules ----

const ROOT = 'linux.seccomp';
const EPERM = 1;
const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffffffffn;

type Op = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';

const OPS: Readonly<Record<string, Op>> = {
  SCMP_CMP_NE: 'NE',
  SCMP_CMP_LT: 'LT',
  SCMP_CMP_LE: 'LE',
  SCMP_CMP_EQ: 'EQ',
  SCMP_CMP_GE: 'GE',
  SCMP_CMP_GT: 'GT',
  SCMP_CMP_MASKED_EQ: 'MASKED_EQ',
};

const FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG_SPEC_ALLOW,
};

interface Cond {
  index: number;
  op: Op;
  /** The compared value; for MASKED_EQ, the mask. */
  value: bigint;
  /** MASKED_EQ only: the expected value of (arg & mask). */
  valueTwo: bigint;
}

interface Rule {
  action: number;
  conds: Cond[];
}

const q = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

const bad = (path: string, what: string) => invalidArgument(`${path}: ${what}`);

function parseErrno(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > SECCOMP_RET_DATA) {
    throw bad(path, `must be an integer from 0 to ${SECCOMP_RET_DATA}, got ${q(v)}`);
  }
  return v;
}

/** An action name (and its errno) → the SECCOMP_RET_* value. */
function parseAction(name: unknown, path: string, errnoRet: unknown, errnoPath: string): number {
  if (name === undefined || name === null) throw bad(path, 'required');
  if (typeof name !== 'string') throw bad(path, `must be a string, got ${q(name)}`);
  const hasErrno = errnoRet !== undefined && errnoRet !== null;
  const errno = (): number => (hasErrno ? parseErrno(errnoRet, errnoPath) : EPERM);
  let value: number;
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      value = SECCOMP_RET_KILL_THREAD;
      break;
    case 'SCMP_ACT_KILL_PROCESS':
      value = SECCOMP_RET_KILL_PROCESS;
      break;
    case 'SCMP_ACT_TRAP':
      value = SECCOMP_RET_TRAP;
      break;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET_ERRNO | errno()) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET_TRACE | errno()) >>> 0;
    case 'SCMP_ACT_LOG':
      value = SECCOMP_RET_LOG;
      break;
    case 'SCMP_ACT_ALLOW':
      value = SECCOMP_RET_ALLOW;
      break;
    case 'SCMP_ACT_NOTIFY':
      throw bad(path, 'SCMP_ACT_NOTIFY is not supported (berth has no seccomp listener support yet)');
    default:
      throw bad(path, `unknown action ${q(name)}`);
  }
  if (hasErrno) throw bad(errnoPath, `only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${q(name)}`);
  return value >>> 0;
}

/** A JSON number (or a bigint, from a parser that keeps 64-bit integers exact) → u64. */
function parseU64(v: unknown, path: string): bigint {
  let b: bigint | undefined;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  if (b === undefined || b < 0n || b > U64_MAX) {
    throw bad(path, `must be an integer from 0 to 18446744073709551615, got ${q(v)}`);
  }
  return b;
}

function parseArg(a: SeccompArg, path: string): Cond {
  if (typeof a !== 'object' || a === null) throw bad(path, `must be an object, got ${q(a)}`);
  const index: unknown = a.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
    throw bad(`${path}.index`, `must be an integer from 0 to 5, got ${q(index)}`);
  }
  const opName: unknown = a.op;
  if (typeof opName !== 'string' || !Object.hasOwn(OPS, opName)) {
    throw bad(`${path}.op`, `unknown operator ${q(opName)}`);
  }
  const op = OPS[opName] as Op;
  if (a.value === undefined || a.value === null) throw bad(`${path}.value`, 'required');
  const value = parseU64(a.value, `${path}.value`);
  const v2: unknown = a.valueTwo;
  const valueTwo = v2 === undefined || v2 === null ? 0n : parseU64(v2, `${path}.valueTwo`);
  return { index, op, value, valueTwo };
}

interface ParsedSyscall {
  names: string[];
  rule: Rule;
}

function parseSyscall(s: SeccompSyscall, path: string): ParsedSyscall {
  if (typeof s !== 'object' || s === null) throw bad(path, `must be an object, got ${q(s)}`);
  const names: unknown = s.names;
  if (!Array.isArray(names) || names.length === 0) throw bad(`${path}.names`, 'must be a non-empty list of syscall names');
  names.forEach((n: unknown, j) => {
    if (typeof n !== 'string' || n === '') throw bad(`${path}.names[${j}]`, `must be a non-empty string, got ${q(n)}`);
  });
  const action = parseAction(s.action, `${path}.action`, s.errnoRet, `${path}.errnoRet`);
  const args: unknown = s.args;
  let conds: Cond[] = [];
  if (args !== undefined && args !== null) {
    if (!Array.isArray(args)) throw bad(`${path}.args`, `must be a list, got ${q(args)}`);
    conds = args.map((a: SeccompArg, j) => parseArg(a, `${path}.args[${j}]`));
  }
  return { names: names as string[], rule: { action, conds } };
}

function parseFlags(flags: unknown): number {
  if (flags === undefined || flags === null) return 0;
  if (!Array.isArray(flags)) throw bad(`${ROOT}.flags`, `must be a list, got ${q(flags)}`);
  let bits = 0;
  flags.forEach((f: unknown, i) => {
    const path = `${ROOT}.flags[${i}]`;
    if (f === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV') {
      throw bad(path, 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported (it needs a seccomp listener)');
    }
    if (typeof f !== 'string' || !Object.hasOwn(FLAGS, f)) throw bad(path, `unknown flag ${q(f)}`);
    bits |= FLAGS[f] as number;
  });
  return bits;
}

function parseArches(s: Seccomp, native: SyscallTableArch): SyscallTableArch[] {
  const out: SyscallTableArch[] = [native];
  const list: unknown = s.architectures;
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw bad(`${ROOT}.architectures`, `must be a list, got ${q(list)}`);
  list.forEach((a: unknown, i) => {
    if (typeof a !== 'string' || !SECCOMP_ARCHES.includes(a)) {
      throw bad(`${ROOT}.architectures[${i}]`, `unknown architecture ${q(a)}`);
    }
    // Known to the spec but not to berth: no table, so its syscalls meet the bad-arch action.
    if (isTableArch(a) && !out.includes(a)) out.push(a);
  });
  return out;
}

// ---- constant folding of conditions, per architecture ----

/** The condition's truth when it does not depend on the argument, else undefined. */
function constCond(c: Cond, max: bigint): boolean | undefined {
  const v = c.value;
  switch (c.op) {
    case 'EQ':
      return v > max ? false : undefined;
    case 'NE':
      return v > max ? true : undefined;
    case 'GT':
      return v >= max ? false : undefined;
    case 'LE':
      return v >= max ? true : undefined;
    case 'GE':
      return v === 0n ? true : v > max ? false : undefined;
    case 'LT':
      return v === 0n ? false : v > max ? true : undefined;
    case 'MASKED_EQ': {
      const m = c.value & max;
      const e = c.valueTwo;
      if ((e & ~m) !== 0n) return false; // expects bits the mask (or the register) cannot hold
      if (m === 0n) return true; // e is 0 here
      return undefined;
    }
  }
}

/**
 * A syscall's rules on one architecture, simplified: conditions fixed by the value range dropped,
 * rules that can never match dropped, nothing after the first unconditional rule, and trailing
 * rules whose action is the default removed (falling through gives the same answer).
 */
function simplifyRules(rules: Rule[], args32: boolean, defaultAction: number): Rule[] {
  const max = args32 ? U32_MAX : U64_MAX;
  const out: Rule[] = [];
  for (const r of rules) {
    const conds: Cond[] = [];
    let dead = false;
    for (const c of r.conds) {
      const k = constCond(c, max);
      if (k === false) dead = true;
      else if (k === undefined) conds.push(c);
    }
    if (dead) continue;
    out.push({ action: r.action, conds });
    if (conds.length === 0) break;
  }
  while (out.length > 0 && (out[out.length - 1] as Rule).action === defaultAction) out.pop();
  return out;
}

// ---- assembler: labels, long jumps ----

type JmpOp = 'JEQ' | 'JGT' | 'JGE' | 'JSET';
const JMP_CODE: Readonly<Record<JmpOp, number>> = {
  JEQ: BPF.JMP_JEQ_K,
  JGT: BPF.JMP_JGT_K,
  JGE: BPF.JMP_JGE_K,
  JSET: BPF.JMP_JSET_K,
};

type Label = number;
type Item =
  | { t: 'label'; id: Label }
  | { t: 'ld'; k: number }
  | { t: 'and'; k: number }
  | { t: 'ret'; k: number }
  | { t: 'ja'; to: Label }
  | { t: 'jmp'; op: JmpOp; k: number; jt: Label; jf: Label };

class Assembler {
  private items: Item[] = [];
  private labels = 0;
  private retLabels = new Map<number, Label>();
  /** The ret value a label stands for, when it marks a shared `ret`. */
  private retOf = new Map<Label, number>();

  label(): Label {
    return this.labels++;
  }
  bind(l: Label): void {
    this.items.push({ t: 'label', id: l });
  }
  ld(offset: number): void {
    this.items.push({ t: 'ld', k: offset });
  }
  and(k: number): void {
    this.items.push({ t: 'and', k: k >>> 0 });
  }
  ret(k: number): void {
    this.items.push({ t: 'ret', k: k >>> 0 });
  }
  ja(to: Label): void {
    this.items.push({ t: 'ja', to });
  }
  /** A conditional jump; an omitted target means the next instruction. */
  jmp(op: JmpOp, k: number, jt: Label | undefined, jf: Label | undefined): void {
    const next = jt === undefined || jf === undefined ? this.label() : undefined;
    this.items.push({ t: 'jmp', op, k: k >>> 0, jt: jt ?? (next as Label), jf: jf ?? (next as Label) });
    if (next !== undefined) this.bind(next);
  }
  /** The label of the shared `ret value` (emitted by finish()). */
  retLabel(value: number): Label {
    value >>>= 0;
    let l = this.retLabels.get(value);
    if (l === undefined) {
      l = this.label();
      this.retLabels.set(value, l);
      this.retOf.set(l, value);
    }
    return l;
  }

  /**
   * Emits the shared returns, resolves labels and encodes.
   *
   * A conditional jump reaches at most 255 instructions ahead. One pass from the last jump to the
   * first finds those that reach further and gives each a trampoline right behind it: a copy of
   * the `ret` it aims at, or a `ja` (32-bit offset). Going backwards makes the distances exact:
   * every trampoline already placed lies between the jump being looked at and its targets, and
   * none placed later can. It also lets jumps share a trampoline already placed within reach.
   */
  finish(): Buffer {
    for (const [value, l] of this.retLabels) {
      this.bind(l);
      this.ret(value);
    }
    type Insn = Exclude<Item, { t: 'label' }>;
    const insns: Insn[] = [];
    const at = new Map<Label, number>(); // label → index of the instruction it precedes
    for (const it of this.items) {
      if (it.t === 'label') at.set(it.id, insns.length);
      else insns.push(it);
    }
    const n = insns.length;
    const placed = new Fenwick(n); // trampolines placed behind each instruction
    const after: Item[][] = insns.map(() => []);
    const nearest = new Map<Label, { label: Label; r: number; slot: number }>();
    const resolved = new Map<number, { jt: Label; jf: Label }>();
    // Instructions strictly between instruction q and original instruction x (q < x).
    const gap = (q: number, x: number): number => x - q - 1 + placed.count(q, x - 1);
    // A jump's own trampolines (at most two) go between it and everything: leave room for them.
    const REACH = 255 - 2;

    for (let q = n - 1; q >= 0; q--) {
      const it = insns[q] as Insn;
      if (it.t !== 'jmp') continue;
      const own: Array<{ target: Label; label: Label }> = [];
      const resolve = (l: Label): Label => {
        const x = at.get(l);
        if (x === undefined || x <= q || x >= n) {
          throw new Error(`seccomp: internal error: jump from ${q} to label ${l} is not forward`);
        }
        if (gap(q, x) <= REACH) return l;
        const mine = own.find((o) => o.target === l);
        if (mine) return mine.label;
        const t = nearest.get(l);
        if (t && gap(q, t.r) + 1 + t.slot <= REACH) return t.label;
        const label = this.label();
        own.push({ target: l, label });
        return label;
      };
      const jt = resolve(it.jt);
      const jf = resolve(it.jf);
      own.forEach((o, slot) => {
        const value = this.retOf.get(o.target);
        after[q]?.push({ t: 'label', id: o.label }, value !== undefined ? { t: 'ret', k: value } : { t: 'ja', to: o.target });
        nearest.set(o.target, { label: o.label, r: q, slot });
      });
      if (own.length > 0) placed.add(q, own.length);
      resolved.set(q, { jt, jf });
    }

    const items: Item[] = [];
    let q = 0;
    for (const it of this.items) {
      if (it.t === 'label') {
        items.push(it);
        continue;
      }
      const r = resolved.get(q);
      items.push(it.t === 'jmp' && r ? { ...it, jt: r.jt, jf: r.jf } : it, ...(after[q] as Item[]));
      q++;
    }

    // Shared returns that every jump now reaches through a copy are dead: drop them (distances
    // only shrink), but keep the last instruction, which the kernel requires to be a ret.
    const used = new Set<Label>();
    for (const it of items) {
      if (it.t === 'jmp') used.add(it.jt).add(it.jf);
      else if (it.t === 'ja') used.add(it.to);
    }
    let lastInsn = items.length - 1;
    while (lastInsn > 0 && items[lastInsn]?.t === 'label') lastInsn--;
    const live = items.filter((it, i) => {
      if (i === lastInsn) return true;
      if (it.t === 'label') return !this.retOf.has(it.id) || used.has(it.id);
      if (it.t !== 'ret') return true;
      const prev = items[i - 1];
      return !(prev?.t === 'label' && this.retOf.has(prev.id) && !used.has(prev.id));
    });
    return encode(live);
  }
}

/** Counts per position, with range sums (a Fenwick tree). */
class Fenwick {
  private tree: Int32Array;
  constructor(n: number) {
    this.tree = new Int32Array(n + 1);
  }
  add(i: number, v: number): void {
    for (let x = i + 1; x < this.tree.length; x += x & -x) this.tree[x] = (this.tree[x] as number) + v;
  }
  private prefix(i: number): number {
    let sum = 0;
    for (let x = i + 1; x > 0; x -= x & -x) sum += this.tree[x] as number;
    return sum;
  }
  /** Sum over positions lo..hi inclusive. */
  count(lo: number, hi: number): number {
    return hi < lo ? 0 : this.prefix(hi) - this.prefix(lo - 1);
  }
}

function encode(items: Item[]): Buffer {
  const addr = new Map<Label, number>();
  let n = 0;
  for (const it of items) {
    if (it.t === 'label') addr.set(it.id, n);
    else n++;
  }
  if (n > BPF_MAXINSNS) {
    throw invalidArgument(
      `${ROOT}: the compiled filter has ${n} instructions, more than the kernel's limit of ${BPF_MAXINSNS}`,
    );
  }
  const buf = Buffer.alloc(n * 8);
  let pc = 0;
  const off = (l: Label): number => {
    const a = addr.get(l);
    const d = a === undefined ? -1 : a - pc - 1;
    if (d < 0) throw new Error(`seccomp: internal error: jump from ${pc} to label ${l} is not forward`);
    return d;
  };
  for (const it of items) {
    if (it.t === 'label') continue;
    let code: number;
    let jt = 0;
    let jf = 0;
    let k = 0;
    switch (it.t) {
      case 'ld':
        code = BPF.LD_W_ABS;
        k = it.k;
        break;
      case 'and':
        code = BPF.ALU_AND_K;
        k = it.k;
        break;
      case 'ret':
        code = BPF.RET_K;
        k = it.k;
        break;
      case 'ja':
        code = BPF.JMP_JA;
        k = off(it.to);
        break;
      case 'jmp':
        code = JMP_CODE[it.op];
        k = it.k;
        jt = off(it.jt);
        jf = off(it.jf);
        if (jt > 255 || jf > 255) throw new Error('seccomp: internal error: conditional jump out of range');
        break;
    }
    const o = pc * 8;
    buf.writeUInt16LE(code, o);
    buf.writeUInt8(jt, o + 2);
    buf.writeUInt8(jf, o + 3);
    buf.writeUInt32LE(k >>> 0, o + 4);
    pc++;
  }
  return buf;
}

// ---- code generation ----

const hi32 = (v: bigint): number => Number((v >> 32n) & U32_MAX);
const lo32 = (v: bigint): number => Number(v & U32_MAX);

/**
 * Jumps to `pass` when the condition holds, else to `fail`; the accumulator is clobbered.
 * `args32`: the high word is taken as zero (constCond has removed the cases that decides).
 */
function emitCond(asm: Assembler, c: Cond, pass: Label, fail: Label, args32: boolean): void {
  const loOff = SECCOMP_DATA_ARGS + 8 * c.index;
  const hiOff = loOff + 4;
  const vh = hi32(c.value);
  const vl = lo32(c.value);
  switch (c.op) {
    case 'EQ':
    case 'NE': {
      const [t, f] = c.op === 'EQ' ? [pass, fail] : [fail, pass];
      if (!args32) {
        asm.ld(hiOff);
        asm.jmp('JEQ', vh, undefined, f);
      }
      asm.ld(loOff);
      asm.jmp('JEQ', vl, t, f);
      return;
    }
    case 'GT':
    case 'LE':
    case 'GE':
    case 'LT': {
      // x > v  ⇔  hi > vh  ∨  (hi = vh ∧ lo > vl);  x ≥ v likewise with lo ≥ vl. LE, LT negate.
      const strict = c.op === 'GT' || c.op === 'LE';
      const [t, f] = c.op === 'GT' || c.op === 'GE' ? [pass, fail] : [fail, pass];
      if (!args32) {
        asm.ld(hiOff);
        if (vh === 0) {
          asm.jmp('JGT', 0, t, undefined); // hi ≠ 0 decides; hi = 0 goes on to the low word
        } else if (vh === 0xffffffff) {
          asm.jmp('JEQ', vh, undefined, f); // hi > vh is impossible
        } else {
          asm.jmp('JGT', vh, t, undefined);
          asm.jmp('JEQ', vh, undefined, f);
        }
      }
      asm.ld(loOff);
      asm.jmp(strict ? 'JGT' : 'JGE', vl, t, f);
      return;
    }
    case 'MASKED_EQ': {
      // (x & m) = e, word by word; a word whose mask is 0 holds trivially (constCond saw to e).
      const m = args32 ? c.value & U32_MAX : c.value;
      const words: Array<{ off: number; m: number; e: number }> = [];
      if (!args32 && hi32(m) !== 0) words.push({ off: hiOff, m: hi32(m), e: hi32(c.valueTwo) });
      if (lo32(m) !== 0) words.push({ off: loOff, m: lo32(m), e: lo32(c.valueTwo) });
      words.forEach((w, i) => {
        const t = i === words.length - 1 ? pass : undefined;
        asm.ld(w.off);
        if (w.e === 0) {
          asm.jmp('JSET', w.m, fail, t); // any masked bit set → fail
        } else {
          if (w.m !== 0xffffffff) asm.and(w.m);
          asm.jmp('JEQ', w.e, t, fail);
        }
      });
      return;
    }
  }
}

/** A syscall's rule chain: entered with any accumulator; ends in a jump to some ret. */
function emitChain(asm: Assembler, rules: Rule[], defaultLabel: Label, args32: boolean): void {
  rules.forEach((r, i) => {
    const last = i === rules.length - 1;
    if (r.conds.length === 0) {
      // Only ever the last rule (simplifyRules stops there).
      asm.ret(r.action);
      return;
    }
    const nextRule = last ? defaultLabel : asm.label();
    const ret = asm.retLabel(r.action);
    r.conds.forEach((c, j) => {
      const lastCond = j === r.conds.length - 1;
      const pass = lastCond ? ret : asm.label();
      emitCond(asm, c, pass, nextRule, args32);
      if (!lastCond) asm.bind(pass);
    });
    if (!last) asm.bind(nextRule);
  });
}

interface Interval {
  start: number;
  target: Label;
}

/**
 * Binary search over intervals (accumulator = nr); a leaf is its target, jumped to directly.
 * `inline(target)` may emit the target's code right here (a chain only this leaf uses); it says
 * whether it did.
 */
function emitTree(asm: Assembler, iv: Interval[], lo: number, hi: number, inline: (target: Label) => boolean): void {
  if (lo === hi) {
    const target = (iv[lo] as Interval).target;
    if (!inline(target)) asm.ja(target);
    return;
  }
  const mid = (lo + hi + 1) >> 1; // right half: [mid, hi]
  const leftLeaf = lo === mid - 1;
  const rightLeaf = mid === hi;
  const left = leftLeaf ? (iv[lo] as Interval).target : asm.label();
  const right = rightLeaf ? (iv[hi] as Interval).target : asm.label();
  asm.jmp('JGE', (iv[mid] as Interval).start, right, left);
  if (leftLeaf) inline(left);
  else {
    asm.bind(left);
    emitTree(asm, iv, lo, mid - 1, inline);
  }
  if (rightLeaf) inline(right);
  else {
    asm.bind(right);
    emitTree(asm, iv, mid, hi, inline);
  }
}

interface ArchPlan {
  arch: SyscallTableArch;
  info: ArchInfo;
  /** nr → rules (non-empty), in number order. */
  rules: Map<number, Rule[]>;
}

function planArch(arch: SyscallTableArch, parsed: ParsedSyscall[], defaultAction: number): ArchPlan {
  const info = ARCH_INFO[arch];
  const raw = new Map<number, Rule[]>();
  for (const p of parsed) {
    for (const name of p.names) {
      if (!Object.hasOwn(info.table, name)) continue; // unknown here: skipped, as runc does
      const nr = info.table[name] as number;
      let list = raw.get(nr);
      if (!list) raw.set(nr, (list = []));
      list.push(p.rule);
    }
  }
  const rules = new Map<number, Rule[]>();
  for (const nr of [...raw.keys()].sort((a, b) => a - b)) {
    const simple = simplifyRules(raw.get(nr) as Rule[], info.args32, defaultAction);
    if (simple.length > 0) rules.set(nr, simple);
  }
  return { arch, info, rules };
}

const ruleKey = (rules: Rule[], args32: boolean): string =>
  JSON.stringify([
    args32,
    rules.map((r) => [r.action, r.conds.map((c) => [c.index, c.op, `${c.value}`, `${c.valueTwo}`])]),
  ]);

interface Chain {
  rules: Rule[];
  args32: boolean;
  /** How many tree leaves jump to it. */
  refs: number;
  emitted: boolean;
}

/** Condition chains, shared by every syscall (of any architecture) with the same rules. */
class Chains {
  private byKey = new Map<string, Label>();
  private byLabel = new Map<Label, Chain>();

  constructor(
    private asm: Assembler,
    private defaultLabel: Label,
  ) {}

  /** The label of the chain for these rules; counts one more reference. */
  ref(rules: Rule[], args32: boolean): Label {
    const key = ruleKey(rules, args32);
    let l = this.byKey.get(key);
    if (l === undefined) {
      l = this.asm.label();
      this.byKey.set(key, l);
      this.byLabel.set(l, { rules, args32, refs: 0, emitted: false });
    }
    (this.byLabel.get(l) as Chain).refs++;
    return l;
  }

  /** Emits the chain here when only one leaf uses it (it then needs no jump of its own). */
  inline(l: Label): boolean {
    const c = this.byLabel.get(l);
    if (!c || c.emitted || c.refs !== 1) return false;
    this.emit(l, c);
    return true;
  }

  /** Emits the chains not placed inline; after every tree, so that all jumps to them go forward. */
  emitRest(): void {
    for (const [l, c] of this.byLabel) if (!c.emitted) this.emit(l, c);
  }

  private emit(l: Label, c: Chain): void {
    c.emitted = true;
    this.asm.bind(l);
    emitChain(this.asm, c.rules, this.defaultLabel, c.args32);
  }
}

/** The number line cut into intervals of syscall numbers that share a target. */
function intervals(asm: Assembler, plan: ArchPlan, defaultLabel: Label, chains: Chains): Interval[] {
  const targetOf = (rules: Rule[]): Label => {
    const only = rules[0] as Rule;
    if (rules.length === 1 && only.conds.length === 0) return asm.retLabel(only.action);
    return chains.ref(rules, plan.info.args32);
  };
  const iv: Interval[] = [];
  const push = (start: number, target: Label): void => {
    const last = iv[iv.length - 1];
    if (last && last.target === target) return;
    if (last && last.start === start) {
      iv.pop();
      push(start, target);
      return;
    }
    iv.push({ start, target });
  };
  push(0, defaultLabel);
  let prev = -1;
  for (const [nr, rules] of plan.rules) {
    if (nr > prev + 1) push(prev + 1, defaultLabel); // a gap: the default action
    push(nr, targetOf(rules));
    prev = nr;
  }
  if (prev < 0xffffffff) push(prev + 1, defaultLabel);
  return iv;
}

/** Compiles an OCI seccomp configuration to a classic BPF program for SECCOMP_SET_MODE_FILTER. */
export function compileSeccomp(s: Seccomp, opts: CompileSeccompOptions = {}): CompiledSeccomp {
  if (typeof s !== 'object' || s === null) throw bad(ROOT, `must be an object, got ${q(s)}`);

  const nativeName = opts.nativeArch ?? nativeSeccompArch();
  if (nativeName === undefined) {
    throw invalidArgument(`${ROOT}: berth has no syscall table for this machine's architecture ${q(process.arch)}`);
  }
  if (!isTableArch(nativeName)) {
    throw invalidArgument(`${ROOT}: berth has no syscall table for the native architecture ${q(nativeName)}`);
  }
  const badArch = parseAction(opts.badArchAction ?? 'SCMP_ACT_KILL_THREAD', 'seccomp bad-arch action', undefined, '');

  const defaultAction = parseAction(
    s.defaultAction,
    `${ROOT}.defaultAction`,
    s.defaultErrnoRet,
    `${ROOT}.defaultErrnoRet`,
  );
  const flags = parseFlags(s.flags);
  const arches = parseArches(s, nativeName);

  const list: unknown = s.syscalls;
  let parsed: ParsedSyscall[] = [];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) throw bad(`${ROOT}.syscalls`, `must be a list, got ${q(list)}`);
    parsed = list.map((sc: SeccompSyscall, i) => parseSyscall(sc, `${ROOT}.syscalls[${i}]`));
  }

  const plans = new Map<SyscallTableArch, ArchPlan>();
  for (const a of arches) plans.set(a, planArch(a, parsed, defaultAction));

  // Group by AUDIT_ARCH value (x86_64 and x32 share one), in order of first appearance.
  const groups: Array<{ audit: number; archs: SyscallTableArch[] }> = [];
  for (const a of arches) {
    const audit = ARCH_INFO[a].audit;
    const g = groups.find((x) => x.audit === audit);
    if (g) g.archs.push(a);
    else groups.push({ audit, archs: [a] });
  }

  const asm = new Assembler();
  const badLabel = asm.retLabel(badArch);
  const defaultLabel = asm.retLabel(defaultAction);
  const chains = new Chains(asm, defaultLabel);
  const trees = new Map<SyscallTableArch, Interval[]>();
  for (const [a, plan] of plans) trees.set(a, intervals(asm, plan, defaultLabel, chains));
  const tree = (a: SyscallTableArch) =>
    emitTree(asm, trees.get(a) as Interval[], 0, (trees.get(a) as Interval[]).length - 1, (l) => chains.inline(l));

  // Which architecture? The first group (the native one) costs one comparison.
  asm.ld(SECCOMP_DATA_ARCH);
  const sectionLabels = groups.map(() => asm.label());
  groups.forEach((g, i) => {
    if (i < groups.length - 1) asm.jmp('JEQ', g.audit, sectionLabels[i], undefined);
    else asm.jmp('JEQ', g.audit, sectionLabels[i], badLabel);
  });

  groups.forEach((g, i) => {
    asm.bind(sectionLabels[i] as Label);
    asm.ld(SECCOMP_DATA_NR);
    if (g.audit === AUDIT_ARCH_X86_64) {
      // nr with the x32 bit: x32's rules when accepted, else the bad-arch action.
      const x64 = plans.has('SCMP_ARCH_X86_64');
      const x32 = plans.has('SCMP_ARCH_X32');
      const x32Label = x32 ? asm.label() : badLabel;
      asm.jmp('JGE', X32_SYSCALL_BIT, x32Label, x64 ? undefined : badLabel);
      if (x64) tree('SCMP_ARCH_X86_64');
      if (x32) {
        asm.bind(x32Label);
        tree('SCMP_ARCH_X32');
      }
    } else {
      for (const a of g.archs) tree(a);
    }
  });
  chains.emitRest();

  return { program: asm.finish(), flags };
}

// ---- debugging aid ----

/** One line per instruction, in the style of `seccomp-tools disasm` / bpf_dbg. */
export function disassemble(program: Buffer): string[] {
  const lines: string[] = [];
  const hex = (k: number) => `0x${k.toString(16).padStart(8, '0')}`;
  for (let pc = 0; pc * 8 < program.length; pc++) {
    const o = pc * 8;
    const code = program.readUInt16LE(o);
    const jt = program.readUInt8(o + 2);
    const jf = program.readUInt8(o + 3);
    const k = program.readUInt32LE(o + 4);
    const at = String(pc).padStart(4, '0');
    let text: string;
    switch (code) {
      case BPF.LD_W_ABS:
        text = `ld  [${k}]`;
        break;
      case BPF.ALU_AND_K:
        text = `and #${hex(k)}`;
        break;
      case BPF.RET_K:
        text = `ret #${hex(k)}`;
        break;
      case BPF.JMP_JA:
        text = `ja  ${pc + 1 + k}`;
        break;
      case BPF.JMP_JEQ_K:
      case BPF.JMP_JGT_K:
      case BPF.JMP_JGE_K:
      case BPF.JMP_JSET_K: {
        const name = { [BPF.JMP_JEQ_K]: 'jeq', [BPF.JMP_JGT_K]: 'jgt', [BPF.JMP_JGE_K]: 'jge', [BPF.JMP_JSET_K]: 'jset' }[
          code
        ];
        text = `${name} #${hex(k)}, ${pc + 1 + jt}, ${pc + 1 + jf}`;
        break;
      }
      default:
        text = `.insn code=0x${code.toString(16)} jt=${jt} jf=${jf} k=${hex(k)}`;
    }
    lines.push(`${at}: ${text}`);
  }
  return lines;
}
