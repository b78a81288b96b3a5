import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Seccomp, SeccompArg, SeccompSyscall } from '../../oci/runtime-spec.js';
import { isBerthError } from '../../lib/errors.js';
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  BPF_MAXINSNS,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SYSCALL_TABLES,
  compileSeccomp,
  disassemble,
  nativeSeccompArch,
  syscallNumber,
  type CompileSeccompOptions,
} from './index.js';

// ---------------------------------------------------------------------------------------------
// A classic BPF interpreter for the seccomp subset, with the kernel's load-time checks.

const ALLOW = SECCOMP_RET_ALLOW;
const KILL_THREAD = SECCOMP_RET_KILL_THREAD;
const ERRNO = (e: number) => (SECCOMP_RET_ERRNO | e) >>> 0;
const X32_BIT = 0x40000000;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(program: Buffer): Insn[] {
  assert.equal(program.length % 8, 0, 'program length is a multiple of 8');
  const out: Insn[] = [];
  for (let o = 0; o < program.length; o += 8) {
    out.push({
      code: program.readUInt16LE(o),
      jt: program.readUInt8(o + 2),
      jf: program.readUInt8(o + 3),
      k: program.readUInt32LE(o + 4),
    });
  }
  return out;
}

/** What the kernel checks when the filter is attached (bpf_check_classic + seccomp_check_filter). */
function verify(program: Buffer): Insn[] {
  const insns = decode(program);
  assert.ok(insns.length > 0 && insns.length <= BPF_MAXINSNS, `length ${insns.length}`);
  const n = insns.length;
  insns.forEach((ins, pc) => {
    switch (ins.code) {
      case 0x20: // ld [k]
        assert.ok(ins.k % 4 === 0 && ins.k < 64, `pc ${pc}: bad load offset ${ins.k}`);
        break;
      case 0x54: // and #k
      case 0x06: // ret #k
        break;
      case 0x05: // ja
        assert.ok(ins.k < n - pc - 1, `pc ${pc}: ja out of range`);
        break;
      case 0x15:
      case 0x25:
      case 0x35:
      case 0x45:
        assert.ok(pc + 1 + ins.jt < n && pc + 1 + ins.jf < n, `pc ${pc}: conditional jump out of range`);
        break;
      default:
        assert.fail(`pc ${pc}: opcode 0x${ins.code.toString(16)} not expected`);
    }
  });
  assert.equal(insns[n - 1]?.code, 0x06, 'the last instruction is a ret');
  return insns;
}

interface Data {
  nr: number;
  arch?: number;
  args?: Array<bigint | number>;
}

function seccompData(d: Data): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE((d.arch ?? AUDIT_ARCH_X86_64) >>> 0, 4);
  b.writeBigUInt64LE(0x401000n, 8);
  (d.args ?? []).forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  return b;
}

function run(insns: Insn[], d: Data): number {
  const data = seccompData(d);
  let a = 0;
  let pc = 0;
  for (let steps = 0; steps <= insns.length; steps++) {
    const ins = insns[pc];
    assert.ok(ins, `pc ${pc} ran off the end`);
    switch (ins.code) {
      case 0x20:
        a = data.readUInt32LE(ins.k);
        pc++;
        break;
      case 0x54:
        a = (a & ins.k) >>> 0;
        pc++;
        break;
      case 0x06:
        return ins.k >>> 0;
      case 0x05:
        pc += 1 + ins.k;
        break;
      case 0x15:
        pc += 1 + (a === ins.k ? ins.jt : ins.jf);
        break;
      case 0x25:
        pc += 1 + (a > ins.k ? ins.jt : ins.jf);
        break;
      case 0x35:
        pc += 1 + (a >= ins.k ? ins.jt : ins.jf);
        break;
      case 0x45:
        pc += 1 + ((a & ins.k) !== 0 ? ins.jt : ins.jf);
        break;
      default:
        assert.fail(`opcode 0x${ins.code.toString(16)}`);
    }
  }
  assert.fail('no ret reached (loop?)');
}

/** Compiles (native x86_64 unless told) and returns a decision function. */
function filter(s: Seccomp, opts: CompileSeccompOptions = {}) {
  const c = compileSeccomp(s, { nativeArch: 'SCMP_ARCH_X86_64', ...opts });
  const insns = verify(c.program);
  const decide = (d: Data) => run(insns, d);
  return { ...c, insns, decide };
}

const nr64 = (name: string) => {
  const n = syscallNumber('SCMP_ARCH_X86_64', name);
  assert.ok(n !== undefined, name);
  return n;
};

function throwsAt(fn: () => unknown, message: string | RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e, 'InvalidArgument'), `InvalidArgument expected, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// A reference: the semantics evaluated directly on the OCI JSON, to cross-check the BPF.

const TABLE_ARCHES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'] as const;
const AUDIT: Record<string, number> = {
  SCMP_ARCH_X86_64: AUDIT_ARCH_X86_64,
  SCMP_ARCH_X32: AUDIT_ARCH_X86_64,
  SCMP_ARCH_X86: AUDIT_ARCH_I386,
  SCMP_ARCH_AARCH64: AUDIT_ARCH_AARCH64,
};

function refAction(name: string, errnoRet: number | undefined): number {
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 0;
    case 'SCMP_ACT_KILL_PROCESS':
      return 0x80000000;
    case 'SCMP_ACT_TRAP':
      return 0x00030000;
    case 'SCMP_ACT_ERRNO':
      return (0x00050000 | (errnoRet ?? 1)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (0x7ff00000 | (errnoRet ?? 1)) >>> 0;
    case 'SCMP_ACT_LOG':
      return 0x7ffc0000;
    case 'SCMP_ACT_ALLOW':
      return 0x7fff0000;
    default:
      throw new Error(name);
  }
}

function refCond(a: SeccompArg, x: bigint): boolean {
  const v = BigInt(a.value);
  switch (a.op) {
    case 'SCMP_CMP_EQ':
      return x === v;
    case 'SCMP_CMP_NE':
      return x !== v;
    case 'SCMP_CMP_LT':
      return x < v;
    case 'SCMP_CMP_LE':
      return x <= v;
    case 'SCMP_CMP_GT':
      return x > v;
    case 'SCMP_CMP_GE':
      return x >= v;
    case 'SCMP_CMP_MASKED_EQ':
      return (x & v) === BigInt(a.valueTwo ?? 0);
    default:
      throw new Error(a.op);
  }
}

function reference(s: Seccomp, d: Data, native: string): number {
  const accepted = new Set<string>([native, ...(s.architectures ?? []).filter((a) => a in AUDIT)]);
  const arch = d.arch ?? AUDIT_ARCH_X86_64;
  let which: string | undefined;
  if (arch === AUDIT_ARCH_X86_64) which = d.nr >>> 0 >= X32_BIT ? 'SCMP_ARCH_X32' : 'SCMP_ARCH_X86_64';
  else which = TABLE_ARCHES.find((a) => AUDIT[a] === arch);
  if (which === undefined || !accepted.has(which)) return KILL_THREAD;
  const table = SYSCALL_TABLES[which as keyof typeof SYSCALL_TABLES];
  for (const sc of s.syscalls ?? []) {
    if (!sc.names.some((n) => Object.hasOwn(table, n) && table[n] === d.nr >>> 0)) continue;
    const ok = (sc.args ?? []).every((a) => {
      let x = BigInt.asUintN(64, BigInt(d.args?.[a.index] ?? 0));
      if (which === 'SCMP_ARCH_X86') x &= 0xffffffffn;
      return refCond(a, x);
    });
    if (ok) return refAction(sc.action, sc.errnoRet);
  }
  return refAction(s.defaultAction, s.defaultErrnoRet);
}

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number) {
  let t = seed >>> 0;
  const next = () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  return { next, int, pick };
}

// ---------------------------------------------------------------------------------------------

describe('syscall tables', () => {
  test('x86_64, i386, x32 and aarch64 numbers', () => {
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_X86_64.read, 0);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_X86_64.write, 1);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_X86_64.openat, 257);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_X86_64.clone3, 435);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_X86.read, 3);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_X86.socketcall, 102);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_X32.read, X32_BIT + 0);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_X32.execve, X32_BIT + 520);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_AARCH64.read, 63);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_AARCH64.openat, 56);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_AARCH64.fstat, 80);
    assert.equal(SYSCALL_TABLES.SCMP_ARCH_AARCH64.clone3, 435);
    assert.equal(syscallNumber('SCMP_ARCH_AARCH64', 'open'), undefined, 'aarch64 has no open(2)');
    assert.equal(syscallNumber('SCMP_ARCH_X86_64', 'fchmodat2'), 452, 'newer than the headers');
    assert.equal(syscallNumber('SCMP_ARCH_X86_64', 'constructor'), undefined);
    assert.equal(syscallNumber('SCMP_ARCH_S390X', 'read'), undefined);
  });

  test('native architecture from process.arch', () => {
    assert.equal(nativeSeccompArch('x64'), 'SCMP_ARCH_X86_64');
    assert.equal(nativeSeccompArch('ia32'), 'SCMP_ARCH_X86');
    assert.equal(nativeSeccompArch('arm64'), 'SCMP_ARCH_AARCH64');
    assert.equal(nativeSeccompArch('riscv64'), undefined);
  });
});

describe('actions', () => {
  test('default action, errno values and every action', () => {
    const f = filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['write'], action: 'SCMP_ACT_ERRNO' },
        { names: ['openat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['close'], action: 'SCMP_ACT_KILL' },
        { names: ['stat'], action: 'SCMP_ACT_KILL_THREAD' },
        { names: ['fstat'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['lstat'], action: 'SCMP_ACT_TRAP' },
        { names: ['poll'], action: 'SCMP_ACT_TRACE' },
        { names: ['lseek'], action: 'SCMP_ACT_TRACE', errnoRet: 7 },
        { names: ['mmap'], action: 'SCMP_ACT_LOG' },
        { names: ['mprotect'], action: 'SCMP_ACT_ERRNO', errnoRet: 0 },
      ],
    });
    assert.equal(f.flags, 0);
    assert.equal(f.decide({ nr: nr64('read') }), ALLOW);
    assert.equal(f.decide({ nr: nr64('write') }), ERRNO(1), 'errnoRet defaults to EPERM');
    assert.equal(f.decide({ nr: nr64('openat') }), ERRNO(13));
    assert.equal(f.decide({ nr: nr64('close') }), SECCOMP_RET_KILL_THREAD);
    assert.equal(f.decide({ nr: nr64('stat') }), SECCOMP_RET_KILL_THREAD);
    assert.equal(f.decide({ nr: nr64('fstat') }), SECCOMP_RET_KILL_PROCESS);
    assert.equal(f.decide({ nr: nr64('lstat') }), SECCOMP_RET_TRAP);
    assert.equal(f.decide({ nr: nr64('poll') }), (SECCOMP_RET_TRACE | 1) >>> 0);
    assert.equal(f.decide({ nr: nr64('lseek') }), (SECCOMP_RET_TRACE | 7) >>> 0);
    assert.equal(f.decide({ nr: nr64('mmap') }), SECCOMP_RET_LOG);
    assert.equal(f.decide({ nr: nr64('mprotect') }), ERRNO(0));
    assert.equal(f.decide({ nr: nr64('getpid') }), ERRNO(38), 'default action with defaultErrnoRet');
    assert.equal(f.decide({ nr: 5000 }), ERRNO(38));
    assert.equal(f.decide({ nr: 0x3fffffff }), ERRNO(38));
  });

  test('an empty profile gives every syscall the default action', () => {
    const f = filter({ defaultAction: 'SCMP_ACT_ALLOW' });
    for (const nr of [0, 1, 59, 435, 999]) assert.equal(f.decide({ nr }), ALLOW);
    assert.ok(f.insns.length <= 8, `${f.insns.length} instructions`);
  });

  test('flags', () => {
    const f = filter({
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    });
    assert.equal(f.flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    assert.equal(filter({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] }).flags, 2);
  });
});

describe('architectures', () => {
  const profile: Seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['read', 'socketcall'], action: 'SCMP_ACT_ALLOW' }],
  };

  test('a foreign architecture gets the bad-arch action (KILL_THREAD, as libseccomp)', () => {
    const f = filter(profile);
    assert.equal(f.decide({ nr: 0 }), ALLOW);
    assert.equal(f.decide({ nr: 0, arch: AUDIT_ARCH_I386 }), KILL_THREAD);
    assert.equal(f.decide({ nr: 3, arch: AUDIT_ARCH_I386 }), KILL_THREAD);
    assert.equal(f.decide({ nr: 63, arch: AUDIT_ARCH_AARCH64 }), KILL_THREAD);
    assert.equal(f.decide({ nr: 0, arch: 0xdeadbeef }), KILL_THREAD);
    const p = filter(profile, { badArchAction: 'SCMP_ACT_KILL_PROCESS' });
    assert.equal(p.decide({ nr: 0, arch: AUDIT_ARCH_I386 }), SECCOMP_RET_KILL_PROCESS);
  });

  test('listed architectures get their own syscall numbers', () => {
    const f = filter({ ...profile, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_ARM'] });
    assert.equal(f.decide({ nr: 0 }), ALLOW, 'x86_64 read');
    assert.equal(f.decide({ nr: 3 }), ERRNO(1), 'x86_64 3 is close');
    assert.equal(f.decide({ nr: 3, arch: AUDIT_ARCH_I386 }), ALLOW, 'i386 read');
    assert.equal(f.decide({ nr: 0, arch: AUDIT_ARCH_I386 }), ERRNO(1), 'i386 0 is restart_syscall');
    assert.equal(f.decide({ nr: 102, arch: AUDIT_ARCH_I386 }), ALLOW, 'socketcall exists only on i386');
    assert.equal(f.decide({ nr: 102 }), ERRNO(1), 'x86_64 102 is getuid');
    assert.equal(f.decide({ nr: 3, arch: 0x40000028 /* AUDIT_ARCH_ARM */ }), KILL_THREAD, 'no ARM table');
  });

  test('native aarch64', () => {
    const f = filter({ ...profile, architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] }, { nativeArch: 'SCMP_ARCH_AARCH64' });
    assert.equal(f.decide({ nr: 63, arch: AUDIT_ARCH_AARCH64 }), ALLOW);
    assert.equal(f.decide({ nr: 0, arch: AUDIT_ARCH_AARCH64 }), ERRNO(1));
    assert.equal(f.decide({ nr: 0, arch: AUDIT_ARCH_X86_64 }), KILL_THREAD);
  });

  test('x32 numbers never meet x86_64 rules', () => {
    const f = filter({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] });
    assert.equal(f.decide({ nr: 0 }), ERRNO(1));
    // Without SCMP_ARCH_X32, a deny-list cannot be dodged through the x32 ABI: bad arch.
    assert.equal(f.decide({ nr: X32_BIT + 0 }), KILL_THREAD);
    assert.equal(f.decide({ nr: X32_BIT + nr64('getpid') }), KILL_THREAD);
    assert.equal(f.decide({ nr: 0xffffffff }), KILL_THREAD);

    const g = filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['execve'], action: 'SCMP_ACT_LOG' },
      ],
    });
    assert.equal(g.decide({ nr: 0 }), ALLOW);
    assert.equal(g.decide({ nr: X32_BIT + 0 }), ALLOW, 'x32 read');
    assert.equal(g.decide({ nr: nr64('execve') }), SECCOMP_RET_LOG);
    assert.equal(g.decide({ nr: X32_BIT + 520 }), SECCOMP_RET_LOG, 'x32 execve is 520');
    assert.equal(g.decide({ nr: X32_BIT + 59 }), ERRNO(1), 'x32 59 is not execve');
    assert.equal(g.decide({ nr: X32_BIT + 1 }), ERRNO(1), 'x32 write: default');
  });

  test('unknown syscall names are skipped, per architecture', () => {
    const f = filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86'],
      syscalls: [{ names: ['no_such_syscall', 'open', 'socketcall', 'arch_prctl'], action: 'SCMP_ACT_ALLOW' }],
    });
    assert.equal(f.decide({ nr: nr64('open') }), ALLOW);
    assert.equal(f.decide({ nr: nr64('arch_prctl') }), ALLOW);
    assert.equal(f.decide({ nr: 5, arch: AUDIT_ARCH_I386 }), ALLOW, 'i386 open');
    assert.equal(f.decide({ nr: 102, arch: AUDIT_ARCH_I386 }), ALLOW, 'i386 socketcall');
    const only = filter({ defaultAction: 'SCMP_ACT_LOG', syscalls: [{ names: ['no_such_syscall'], action: 'SCMP_ACT_KILL' }] });
    assert.equal(only.decide({ nr: 0 }), SECCOMP_RET_LOG);
  });
});

describe('arguments', () => {
  const HI = 1n << 32n;
  const one = (op: string, value: bigint | number, valueTwo?: bigint | number, arch = 'SCMP_ARCH_X86_64') => {
    const arg = { index: 2, op, value, ...(valueTwo === undefined ? {} : { valueTwo }) } as unknown as SeccompArg;
    const f = filter(
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: [arch],
        syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [arg] }],
      },
      {},
    );
    const audit = AUDIT[arch] as number;
    const nr = syscallNumber(arch, 'ioctl') as number;
    return (x: bigint | number) => f.decide({ nr, arch: audit, args: [0, 0, x] }) === ALLOW;
  };

  test('EQ and NE compare both words', () => {
    const eq = one('SCMP_CMP_EQ', HI + 5n);
    assert.equal(eq(HI + 5n), true);
    assert.equal(eq(5), false, 'low word alone must not match');
    assert.equal(eq(2n * HI + 5n), false);
    assert.equal(eq(HI + 6n), false);
    const ne = one('SCMP_CMP_NE', 40);
    assert.equal(ne(40), false);
    assert.equal(ne(41), true);
    assert.equal(ne(HI + 40n), true, 'high word matters');
  });

  test('GT GE LT LE, unsigned, across the word boundary', () => {
    const v = 3n * HI + 0x80000000n;
    const cases: Array<[string, (x: bigint, v: bigint) => boolean]> = [
      ['SCMP_CMP_GT', (x, v) => x > v],
      ['SCMP_CMP_GE', (x, v) => x >= v],
      ['SCMP_CMP_LT', (x, v) => x < v],
      ['SCMP_CMP_LE', (x, v) => x <= v],
    ];
    const xs = [0n, 1n, v - 1n, v, v + 1n, 3n * HI, 3n * HI + 0xffffffffn, 2n * HI + 0xffffffffn, 4n * HI, (1n << 64n) - 1n, 0x80000000n, 0xffffffffn];
    for (const [op, ref] of cases) {
      for (const value of [v, 0n, 5n, 0xffffffffn, HI, (1n << 64n) - 1n, 0xffffffffn * HI]) {
        const f = one(op, value);
        for (const x of [...xs, value, value + 1n, value - 1n]) {
          const xx = BigInt.asUintN(64, x);
          assert.equal(f(xx), ref(xx, value), `${op} ${value}: x = ${xx}`);
        }
      }
    }
  });

  test('MASKED_EQ: value is the mask, valueTwo the expected bits', () => {
    const clone = one('SCMP_CMP_MASKED_EQ', 2114060288); // Docker: no namespace flags
    assert.equal(clone(0x11), true);
    assert.equal(clone(0x10000000), false, 'CLONE_NEWUSER');
    assert.equal(clone(HI + 0x11n), true, 'bits outside the mask');
    const m = one('SCMP_CMP_MASKED_EQ', 0xff00000000ff00n, 0x12000000003400n);
    assert.equal(m(0x12000000003400n), true);
    assert.equal(m(0xff12ffff00ff34ffn), true);
    assert.equal(m(0x13000000003400n), false, 'high word differs');
    assert.equal(m(0x12000000003500n), false, 'low word differs');
    const never = one('SCMP_CMP_MASKED_EQ', 0xf0, 0x0f); // expects bits outside the mask
    assert.equal(never(0x0f), false);
    assert.equal(never(0xff), false);
    const always = one('SCMP_CMP_MASKED_EQ', 0, 0);
    assert.equal(always(12345), true);
  });

  test('on i386 only the low word counts, as the syscall sees it', () => {
    const eq = one('SCMP_CMP_EQ', 5, undefined, 'SCMP_ARCH_X86');
    assert.equal(eq(5), true);
    assert.equal(eq(HI + 5n), true, 'upper register bits are not the syscall\'s');
    assert.equal(eq(6), false);
    const big = one('SCMP_CMP_EQ', HI + 5n, undefined, 'SCMP_ARCH_X86');
    assert.equal(big(5), false);
    assert.equal(big(HI + 5n), false, 'a 32-bit argument never equals 2^32 + 5');
    const lt = one('SCMP_CMP_LT', HI, undefined, 'SCMP_ARCH_X86');
    assert.equal(lt(0xffffffffn), true);
    assert.equal(lt(HI + 7n), true);
    const gt = one('SCMP_CMP_GT', 10, undefined, 'SCMP_ARCH_X86');
    assert.equal(gt(HI + 5n), false);
    assert.equal(gt(11), true);
  });

  test('several args in one rule are ANDed; index 0..5 read the right slot', () => {
    const f = filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        {
          names: ['mmap'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 10, op: 'SCMP_CMP_EQ' },
            { index: 5, value: 20, op: 'SCMP_CMP_GE' },
            { index: 3, value: 4, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 4 },
          ],
        },
      ],
    });
    const nr = nr64('mmap');
    assert.equal(f.decide({ nr, args: [10, 0, 0, 4, 0, 20] }), ALLOW);
    assert.equal(f.decide({ nr, args: [10, 0, 0, 4, 0, 19] }), ERRNO(1));
    assert.equal(f.decide({ nr, args: [11, 0, 0, 4, 0, 20] }), ERRNO(1));
    assert.equal(f.decide({ nr, args: [10, 0, 0, 0, 0, 20] }), ERRNO(1));
    assert.equal(f.decide({ nr, args: [10, 99, 99, 7, 99, 1n << 40n] }), ALLOW);
  });

  test('rules for one syscall are tried in order; the first match wins', () => {
    const f = filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 100, op: 'SCMP_CMP_LT' }] },
        { names: ['personality', 'getpid'], action: 'SCMP_ACT_LOG' },
        { names: ['personality'], action: 'SCMP_ACT_KILL' }, // never reached
        { names: ['getpid'], action: 'SCMP_ACT_KILL' }, // never reached
      ],
    });
    const nr = nr64('personality');
    assert.equal(f.decide({ nr, args: [0] }), ALLOW);
    assert.equal(f.decide({ nr, args: [8] }), ALLOW);
    assert.equal(f.decide({ nr, args: [9] }), ERRNO(22));
    assert.equal(f.decide({ nr, args: [100] }), SECCOMP_RET_LOG);
    assert.equal(f.decide({ nr, args: [1n << 33n] }), SECCOMP_RET_LOG);
    assert.equal(f.decide({ nr: nr64('getpid') }), SECCOMP_RET_LOG);
  });

  test('a rule with the default action still shadows later rules', () => {
    const f = filter({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x10000000, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 0x10000000 }] },
        { names: ['clone'], action: 'SCMP_ACT_ALLOW' },
      ],
    });
    assert.equal(f.decide({ nr: nr64('clone'), args: [0x10000011] }), ERRNO(1));
    assert.equal(f.decide({ nr: nr64('clone'), args: [0x11] }), ALLOW);
  });
});

describe('validation', () => {
  const base: Seccomp = { defaultAction: 'SCMP_ACT_ERRNO' };
  const withCall = (sc: Partial<SeccompSyscall> & Record<string, unknown>): Seccomp => ({
    ...base,
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['write'], action: 'SCMP_ACT_ALLOW', ...sc } as SeccompSyscall,
    ],
  });
  const arg = (a: Record<string, unknown>): Seccomp =>
    withCall({ args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, a as unknown as SeccompArg] });
  const compile = (s: unknown, opts: CompileSeccompOptions = {}) =>
    compileSeccomp(s as Seccomp, { nativeArch: 'SCMP_ARCH_X86_64', ...opts });

  test('actions', () => {
    throwsAt(() => compile(withCall({ action: 'SCMP_ACT_FOO' })), 'linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"');
    throwsAt(
      () => compile(withCall({ action: 'SCMP_ACT_NOTIFY' })),
      /^linux\.seccomp\.syscalls\[3\]\.action: SCMP_ACT_NOTIFY is not supported/,
    );
    throwsAt(() => compile({ defaultAction: 'SCMP_ACT_NOTIFY' }), /^linux\.seccomp\.defaultAction: SCMP_ACT_NOTIFY is not supported/);
    throwsAt(() => compile({}), 'linux.seccomp.defaultAction: required');
    throwsAt(() => compile({ defaultAction: 'allow' }), 'linux.seccomp.defaultAction: unknown action "allow"');
    throwsAt(() => compile(withCall({ action: undefined })), 'linux.seccomp.syscalls[3].action: required');
  });

  test('errnoRet', () => {
    throwsAt(
      () => compile(withCall({ errnoRet: 5 })),
      'linux.seccomp.syscalls[3].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not "SCMP_ACT_ALLOW"',
    );
    throwsAt(
      () => compile(withCall({ action: 'SCMP_ACT_ERRNO', errnoRet: -1 })),
      'linux.seccomp.syscalls[3].errnoRet: must be an integer from 0 to 65535, got -1',
    );
    throwsAt(
      () => compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1.5 }),
      'linux.seccomp.defaultErrnoRet: must be an integer from 0 to 65535, got 1.5',
    );
    throwsAt(
      () => compile({ defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }),
      'linux.seccomp.defaultErrnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not "SCMP_ACT_KILL"',
    );
  });

  test('names', () => {
    throwsAt(() => compile(withCall({ names: [] })), 'linux.seccomp.syscalls[3].names: must be a non-empty list of syscall names');
    throwsAt(() => compile(withCall({ names: ['read', ''] })), 'linux.seccomp.syscalls[3].names[1]: must be a non-empty string, got ""');
    throwsAt(() => compile(withCall({ names: undefined })), 'linux.seccomp.syscalls[3].names: must be a non-empty list of syscall names');
  });

  test('args', () => {
    throwsAt(() => compile(arg({ index: 0, value: 1, op: 'SCMP_CMP_FOO' })), 'linux.seccomp.syscalls[3].args[1].op: unknown operator "SCMP_CMP_FOO"');
    throwsAt(() => compile(arg({ index: 6, value: 1, op: 'SCMP_CMP_EQ' })), 'linux.seccomp.syscalls[3].args[1].index: must be an integer from 0 to 5, got 6');
    throwsAt(() => compile(arg({ index: -1, value: 1, op: 'SCMP_CMP_EQ' })), 'linux.seccomp.syscalls[3].args[1].index: must be an integer from 0 to 5, got -1');
    throwsAt(() => compile(arg({ value: 1, op: 'SCMP_CMP_EQ' })), /^linux\.seccomp\.syscalls\[3\]\.args\[1\]\.index: must be an integer/);
    throwsAt(() => compile(arg({ index: 0, op: 'SCMP_CMP_EQ' })), 'linux.seccomp.syscalls[3].args[1].value: required');
    throwsAt(
      () => compile(arg({ index: 0, value: -1, op: 'SCMP_CMP_EQ' })),
      'linux.seccomp.syscalls[3].args[1].value: must be an integer from 0 to 18446744073709551615, got -1',
    );
    throwsAt(
      () => compile(arg({ index: 0, value: 1, valueTwo: 0.5, op: 'SCMP_CMP_MASKED_EQ' })),
      /^linux\.seccomp\.syscalls\[3\]\.args\[1\]\.valueTwo: must be an integer/,
    );
    // 64-bit values may arrive as bigint from a parser that keeps them exact.
    const f = filter({
      ...base,
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffffffffffffffffn as unknown as number, op: 'SCMP_CMP_EQ' }] }],
    });
    assert.equal(f.decide({ nr: 0, args: [-1n] }), ALLOW);
    assert.equal(f.decide({ nr: 0, args: [0xffffffffn] }), ERRNO(1));
  });

  test('flags and architectures', () => {
    throwsAt(() => compile({ ...base, flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'FOO'] }), 'linux.seccomp.flags[1]: unknown flag "FOO"');
    throwsAt(() => compile({ ...base, flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }), /^linux\.seccomp\.flags\[0\]: .*not supported/);
    throwsAt(() => compile({ ...base, architectures: ['SCMP_ARCH_X86_64', 'x86'] }), 'linux.seccomp.architectures[1]: unknown architecture "x86"');
    throwsAt(() => compile(base, { nativeArch: 'SCMP_ARCH_S390X' }), /native architecture "SCMP_ARCH_S390X"/);
    throwsAt(() => compile(base, { badArchAction: 'SCMP_ACT_NOPE' }), /unknown action "SCMP_ACT_NOPE"/);
  });
});

describe('size', () => {
  const names64 = Object.entries(SYSCALL_TABLES.SCMP_ARCH_X86_64)
    .sort((a, b) => a[1] - b[1])
    .map(([n]) => n);

  test('350 syscalls in one rule compile small and decide right', () => {
    const names = names64.slice(0, 350);
    const f = filter({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] });
    assert.ok(f.insns.length < 100, `${f.insns.length} instructions`);
    for (const n of [names[0], names[175], names[349]] as string[]) assert.equal(f.decide({ nr: nr64(n) }), ALLOW, n);
    assert.equal(f.decide({ nr: nr64(names64[350] as string) }), ERRNO(1));
    assert.equal(f.decide({ nr: 100000 }), ERRNO(1));
  });

  test('350 syscalls with alternating actions and arg rules: long jumps resolve', () => {
    const names = names64.slice(0, 350);
    const syscalls: SeccompSyscall[] = names.map((n, i) => ({
      names: [n],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 1000 + i,
      args: [{ index: i % 6, value: i * 3 + (i % 2 === 0 ? 0 : 2 ** 33), op: i % 3 === 0 ? 'SCMP_CMP_EQ' : 'SCMP_CMP_LE' }],
    }));
    const s: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], syscalls };
    const f = filter(s);
    assert.ok(f.insns.length < BPF_MAXINSNS, `${f.insns.length} instructions`);
    assert.ok(f.insns.some((x) => x.code === 0x05) || f.insns.filter((x) => x.code === 0x06).length > 400, 'trampolines were needed');
    for (const i of [0, 1, 174, 175, 348, 349]) {
      const nr = nr64(names[i] as string);
      const args = [0, 0, 0, 0, 0, 0];
      args[i % 6] = i * 3;
      assert.equal(f.decide({ nr, args }), ERRNO(1000 + i), `${names[i]} matching`);
      args[i % 6] = i * 3 + 2 ** 34;
      assert.equal(f.decide({ nr, args }), ALLOW, `${names[i]} not matching`);
    }
    const rnd = prng(7);
    for (let t = 0; t < 3000; t++) {
      const d: Data = {
        nr: rnd.next() < 0.9 ? rnd.int(460) : rnd.int(2 ** 32),
        arch: rnd.pick([AUDIT_ARCH_X86_64, AUDIT_ARCH_I386]),
        args: Array.from({ length: 6 }, () => BigInt(rnd.int(1100)) + (rnd.next() < 0.3 ? 1n << BigInt(32 + rnd.int(2)) : 0n)),
      };
      assert.equal(f.decide(d), reference(s, d, 'SCMP_ARCH_X86_64'), JSON.stringify(d, (_, v) => (typeof v === 'bigint' ? `${v}` : v)));
    }
  });

  test('a filter over 4096 instructions is refused with a clear message', () => {
    const syscalls: SeccompSyscall[] = names64.slice(0, 300).map((n, i) => ({
      names: [n],
      action: 'SCMP_ACT_ALLOW',
      args: [0, 1, 2, 3, 4, 5].map((index) => ({ index, value: 2 ** 40 + i + index, op: 'SCMP_CMP_EQ' })),
    }));
    throwsAt(
      () => compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }, { nativeArch: 'SCMP_ARCH_X86_64' }),
      /^linux\.seccomp: the compiled filter has \d+ instructions, more than the kernel's limit of 4096$/,
    );
  });

  test('a Docker-like default profile', () => {
    const deny = new Set(['mount', 'umount2', 'reboot', 'kexec_load', 'init_module', 'finit_module', 'delete_module', 'swapon', 'swapoff', 'pivot_root', 'unshare', 'setns', 'bpf', 'ptrace', 'clone', 'clone3', 'personality', 'socket', 'keyctl', 'add_key', 'request_key']);
    const allow = [...new Set([...names64, ...Object.keys(SYSCALL_TABLES.SCMP_ARCH_X86), 'no_such_syscall'])].filter((n) => !deny.has(n));
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: allow, action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 131072, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 131080, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_EQ' }] },
        { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
        { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      ],
    };
    const f = filter(s);
    assert.ok(f.insns.length < 400, `${f.insns.length} instructions`);
    assert.equal(f.decide({ nr: nr64('read') }), ALLOW);
    assert.equal(f.decide({ nr: nr64('mount') }), ERRNO(1));
    assert.equal(f.decide({ nr: nr64('clone3') }), ERRNO(38));
    assert.equal(f.decide({ nr: nr64('clone'), args: [0x1200011] }), ALLOW);
    assert.equal(f.decide({ nr: nr64('clone'), args: [0x20000000] }), ERRNO(1), 'CLONE_NEWUTS');
    assert.equal(f.decide({ nr: nr64('socket'), args: [2] }), ALLOW);
    assert.equal(f.decide({ nr: nr64('socket'), args: [40] }), ERRNO(1), 'AF_VSOCK');
    assert.equal(f.decide({ nr: nr64('personality'), args: [0xffffffff] }), ALLOW);
    assert.equal(f.decide({ nr: nr64('personality'), args: [1] }), ERRNO(1));
    assert.equal(f.decide({ nr: 120 /* i386 clone */, arch: AUDIT_ARCH_I386, args: [0x10000000] }), ERRNO(1));
    assert.equal(f.decide({ nr: 3, arch: AUDIT_ARCH_I386 }), ALLOW);
    assert.equal(f.decide({ nr: X32_BIT + 0 }), ALLOW, 'x32 read');
  });
});

describe('against a reference evaluator', () => {
  const OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
  const ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_LOG', 'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_KILL'];
  const VALUES = [0n, 1n, 2n, 7n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 32n) + 1n, 0x1234567800000009n, (1n << 64n) - 1n, 0xffffffff00000000n];
  const jsonish = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

  const check = (seed: number, rounds: number, big: boolean) => {
    const rnd = prng(seed);
    const pool = big
      ? [...new Set([...Object.keys(SYSCALL_TABLES.SCMP_ARCH_X86_64), ...Object.keys(SYSCALL_TABLES.SCMP_ARCH_AARCH64)])]
      : [...Object.keys(SYSCALL_TABLES.SCMP_ARCH_X86_64).slice(0, 60), 'socketcall', 'execve', 'nope'];
    let compiled = 0;
    let longest = 0;
    for (let round = 0; round < rounds; round++) {
      const valuePool = VALUES.concat(Array.from({ length: 4 }, () => BigInt(rnd.int(2 ** 32)) * (rnd.next() < 0.5 ? 1n : 1n << 32n)));
      const syscalls: SeccompSyscall[] = Array.from({ length: big ? 100 + rnd.int(150) : 1 + rnd.int(12) }, () => {
        const action = rnd.pick(ACTIONS);
        const sc: SeccompSyscall = { names: Array.from({ length: 1 + rnd.int(4) }, () => rnd.pick(pool)), action };
        if ((action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') && rnd.next() < 0.5) sc.errnoRet = rnd.int(200);
        const nargs = rnd.next() < 0.3 ? 0 : 1 + rnd.int(3);
        if (nargs > 0) {
          sc.args = Array.from({ length: nargs }, () => {
            const op = rnd.pick(OPS);
            const a = { index: rnd.int(3), op, value: rnd.pick(valuePool) } as unknown as SeccompArg;
            if (op === 'SCMP_CMP_MASKED_EQ' && rnd.next() < 0.7) {
              (a as { valueTwo?: unknown }).valueTwo = (a.value as unknown as bigint) & rnd.pick(valuePool);
            }
            return a;
          });
        }
        return sc;
      });
      const s: Seccomp = {
        defaultAction: rnd.pick(ACTIONS),
        architectures: rnd.pick([[], ['SCMP_ARCH_X86'], ['SCMP_ARCH_X32'], ['SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64']]),
        syscalls,
      };
      if (s.defaultAction === 'SCMP_ACT_ERRNO' && rnd.next() < 0.5) s.defaultErrnoRet = rnd.int(100);
      const native = rnd.pick(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64']);
      let f: ReturnType<typeof filter>;
      try {
        f = filter(s, { nativeArch: native });
      } catch (e) {
        if (big && isBerthError(e) && e.message.includes('more than the kernel\'s limit')) continue;
        throw e;
      }
      compiled++;
      longest = Math.max(longest, f.insns.length);
      const usedNrs = (arch: string) =>
        syscalls.flatMap((sc) => sc.names.map((n) => syscallNumber(arch, n)).filter((x): x is number => x !== undefined));
      for (let t = 0; t < 150; t++) {
        const archName = rnd.pick([...TABLE_ARCHES, 'OTHER']);
        const arch = archName === 'OTHER' ? 0x40000028 : (AUDIT[archName] as number);
        const nrs = archName === 'OTHER' ? [1, 2] : usedNrs(archName);
        const nr = nrs.length > 0 && rnd.next() < 0.8 ? rnd.pick(nrs) : rnd.pick([rnd.int(500), X32_BIT + rnd.int(600), 0xffffffff]);
        const args = Array.from({ length: 6 }, () => {
          const v = rnd.pick(valuePool);
          const r = rnd.next();
          return BigInt.asUintN(64, r < 0.2 ? v + 1n : r < 0.4 ? v - 1n : r < 0.5 ? v ^ (1n << 32n) : v);
        });
        const d: Data = { nr, arch, args };
        const got = f.decide(d);
        const want = reference(s, d, native);
        if (got !== want) {
          assert.fail(
            `round ${round}: ${jsonish(d)} → 0x${got.toString(16)}, want 0x${want.toString(16)}\n` +
              `native ${native}; profile ${jsonish(s)}\n${disassemble(f.program).join('\n')}`,
          );
        }
      }
    }
    assert.ok(compiled >= rounds / 2, `only ${compiled} of ${rounds} profiles fit`);
    if (big) assert.ok(longest > 1000, `longest program ${longest} instructions`);
  };

  test('random small profiles, random calls', () => check(42, 150, false));
  test('random large profiles (long jumps), random calls', () => check(4242, 12, true));
});
