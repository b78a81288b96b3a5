#!/usr/bin/env node
// Generates src/runtime/seccomp/syscalls.ts: syscall name → number, per seccomp architecture, from
// the kernel's UAPI headers (Debian's linux-libc-dev lays them out as below).
//
//   node scripts/gen-syscalls.mjs [--include /usr/include] [--check]
//
//   SCMP_ARCH_X86_64   <include>/x86_64-linux-gnu/asm/unistd_64.h   (or <include>/asm/unistd_64.h)
//   SCMP_ARCH_X86      <include>/x86_64-linux-gnu/asm/unistd_32.h
//   SCMP_ARCH_X32      <include>/x86_64-linux-gnu/asm/unistd_x32.h  (numbers carry __X32_SYSCALL_BIT)
//   SCMP_ARCH_AARCH64  <include>/asm-generic/unistd.h, evaluated with the macros that arm64's own
//                      uapi <asm/unistd.h> defines before including it (listed in AARCH64_DEFINES)
//
// Headers lag the kernel: syscalls newer than the installed headers are added from NEWER_SYSCALLS
// below (numbers from the kernel's syscall tables) when, and only when, a header lacks the name.
// --check exits 1 when the file on disk differs from what would be written (for CI).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const X32_SYSCALL_BIT = 0x40000000;

// arch/arm64/include/uapi/asm/unistd.h (Linux 5.14 .. 6.10) defines these, then includes
// <asm-generic/unistd.h>; asm/bitsperlong.h makes __BITS_PER_LONG 64.
const AARCH64_DEFINES = {
  __BITS_PER_LONG: '64',
  __ARCH_WANT_RENAMEAT: '',
  __ARCH_WANT_NEW_STAT: '',
  __ARCH_WANT_SET_GET_RLIMIT: '',
  __ARCH_WANT_TIME32_SYSCALLS: '',
  __ARCH_WANT_SYS_CLONE3: '',
  __ARCH_WANT_MEMFD_SECRET: '',
};

// Syscalls added after Linux 6.1. Since 424 the number is the same on every architecture;
// `only` restricts an entry to the ABIs that have it (map_shadow_stack is x86_64-only on x86).
const NEWER_SYSCALLS = [
  { nr: 451, name: 'cachestat' }, // 6.5
  { nr: 452, name: 'fchmodat2' }, // 6.6
  { nr: 453, name: 'map_shadow_stack', only: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'] }, // 6.6
  { nr: 454, name: 'futex_wake' }, // 6.7
  { nr: 455, name: 'futex_wait' },
  { nr: 456, name: 'futex_requeue' },
  { nr: 457, name: 'statmount' }, // 6.8
  { nr: 458, name: 'listmount' },
  { nr: 459, name: 'lsm_get_self_attr' },
  { nr: 460, name: 'lsm_set_self_attr' },
  { nr: 461, name: 'lsm_list_modules' },
  { nr: 462, name: 'mseal' }, // 6.10
  { nr: 463, name: 'setxattrat' }, // 6.13
  { nr: 464, name: 'getxattrat' },
  { nr: 465, name: 'listxattrat' },
  { nr: 466, name: 'removexattrat' },
];

function parseArgs(argv) {
  const opts = { include: '/usr/include', check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') opts.check = true;
    else if (a === '--include') opts.include = argv[++i];
    else if (a.startsWith('--include=')) opts.include = a.slice('--include='.length);
    else throw new Error(`gen-syscalls: unknown argument "${a}"`);
  }
  return opts;
}

function firstExisting(paths) {
  for (const p of paths) if (existsSync(p)) return p;
  throw new Error(`gen-syscalls: none of these headers exists: ${paths.join(', ')}`);
}

/** `#define __NR_name 123` (x86 generated headers: one plain number per line). */
function parsePlain(file) {
  const out = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^#define\s+__NR_(\w+)\s+(\d+)\s*$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  if (out.size < 100) throw new Error(`gen-syscalls: ${file}: only ${out.size} syscalls found`);
  return out;
}

/** `#define __NR_name (__X32_SYSCALL_BIT + 123)`. */
function parseX32(file) {
  const out = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^#define\s+__NR_(\w+)\s+\(__X32_SYSCALL_BIT\s*\+\s*(\d+)\)\s*$/.exec(line);
    if (m) out.set(m[1], X32_SYSCALL_BIT + Number(m[2]));
  }
  if (out.size < 100) throw new Error(`gen-syscalls: ${file}: only ${out.size} syscalls found`);
  return out;
}

// ---- a preprocessor just big enough for asm-generic/unistd.h ----

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

function tokenize(expr) {
  const re = /\s*(defined|[A-Za-z_]\w*|0[xX][0-9a-fA-F]+|\d+|\|\||&&|==|!=|<=|>=|[()!<>+\-])/y;
  const toks = [];
  let pos = 0;
  expr = expr.trim();
  while (pos < expr.length) {
    re.lastIndex = pos;
    const m = re.exec(expr);
    if (!m) throw new Error(`gen-syscalls: cannot parse "#if ${expr}" at "${expr.slice(pos)}"`);
    toks.push(m[1]);
    pos = re.lastIndex;
    while (pos < expr.length && /\s/.test(expr[pos])) pos++;
  }
  return toks;
}

/** Evaluates a #if expression with the macros in `defs` (unknown identifiers are 0, as in C). */
function evalCondition(expr, defs) {
  const toks = tokenize(expr);
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++];
  const expect = (t) => {
    if (next() !== t) throw new Error(`gen-syscalls: expected "${t}" in "#if ${expr}"`);
  };
  const valueOf = (name, depth = 0) => {
    if (!defs.has(name)) return 0;
    const v = defs.get(name).trim();
    if (v === '') return 0;
    if (/^(0[xX][0-9a-fA-F]+|\d+)$/.test(v)) return Number(v);
    if (/^[A-Za-z_]\w*$/.test(v) && depth < 16) return valueOf(v, depth + 1);
    throw new Error(`gen-syscalls: macro ${name} = "${v}" is not a number`);
  };
  const primary = () => {
    const t = next();
    if (t === 'defined') {
      let name = next();
      if (name === '(') {
        name = next();
        expect(')');
      }
      return defs.has(name) ? 1 : 0;
    }
    if (t === '(') {
      const v = or();
      expect(')');
      return v;
    }
    if (t === '!') return primary() ? 0 : 1;
    if (t === '-') return -primary();
    if (/^\d/.test(t)) return Number(t);
    if (/^[A-Za-z_]/.test(t)) return valueOf(t);
    throw new Error(`gen-syscalls: unexpected "${t}" in "#if ${expr}"`);
  };
  const rel = () => {
    let v = primary();
    for (;;) {
      const op = peek();
      if (op === '<' || op === '>' || op === '<=' || op === '>=') {
        next();
        const r = primary();
        v = Number(op === '<' ? v < r : op === '>' ? v > r : op === '<=' ? v <= r : v >= r);
      } else return v;
    }
  };
  const eq = () => {
    let v = rel();
    while (peek() === '==' || peek() === '!=') {
      const op = next();
      const r = rel();
      v = Number(op === '==' ? v === r : v !== r);
    }
    return v;
  };
  const and = () => {
    let v = eq();
    while (peek() === '&&') {
      next();
      const r = eq();
      v = Number(v !== 0 && r !== 0);
    }
    return v;
  };
  const or = () => {
    let v = and();
    while (peek() === '||') {
      next();
      const r = and();
      v = Number(v !== 0 || r !== 0);
    }
    return v;
  };
  const v = or();
  if (i !== toks.length) throw new Error(`gen-syscalls: trailing tokens in "#if ${expr}"`);
  return v !== 0;
}

/** Runs the conditional directives of a header and returns every object-like macro it defines. */
function preprocess(file, predefined) {
  const defs = new Map(Object.entries(predefined));
  const text = stripComments(readFileSync(file, 'utf8')).replace(/\\\n/g, ' ');
  // Each frame: is this branch live, has any branch of this #if been taken, was the parent live.
  const stack = [];
  const live = () => stack.every((f) => f.live);
  for (const raw of text.split('\n')) {
    const m = /^\s*#\s*(\w+)\s*(.*)$/.exec(raw);
    if (!m) continue;
    const [, directive, rest] = m;
    switch (directive) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const parentLive = live();
        let cond = false;
        if (parentLive) {
          if (directive === 'if') cond = evalCondition(rest, defs);
          else cond = defs.has(rest.trim()) === (directive === 'ifdef');
        }
        stack.push({ live: parentLive && cond, taken: cond, parentLive });
        break;
      }
      case 'elif': {
        const f = stack.at(-1);
        if (!f) throw new Error(`gen-syscalls: ${file}: #elif without #if`);
        const cond = f.parentLive && !f.taken && evalCondition(rest, defs);
        f.live = cond;
        f.taken ||= cond;
        break;
      }
      case 'else': {
        const f = stack.at(-1);
        if (!f) throw new Error(`gen-syscalls: ${file}: #else without #if`);
        f.live = f.parentLive && !f.taken;
        f.taken = true;
        break;
      }
      case 'endif':
        if (!stack.pop()) throw new Error(`gen-syscalls: ${file}: #endif without #if`);
        break;
      case 'define': {
        if (!live()) break;
        const d = /^([A-Za-z_]\w*)(\(?)\s*(.*)$/.exec(rest);
        if (d && d[2] === '') defs.set(d[1], d[3].trim());
        break;
      }
      case 'undef':
        if (live()) defs.delete(rest.trim());
        break;
      default:
        break; // #include, #error, #pragma: not needed here
    }
  }
  if (stack.length !== 0) throw new Error(`gen-syscalls: ${file}: unterminated #if`);
  return defs;
}

function parseGeneric(file, predefined) {
  const defs = preprocess(file, predefined);
  const resolve = (v, depth = 0) => {
    v = v.trim();
    if (/^\d+$/.test(v)) return Number(v);
    if (/^[A-Za-z_]\w*$/.test(v) && defs.has(v) && depth < 16) return resolve(defs.get(v), depth + 1);
    return undefined;
  };
  const out = new Map();
  for (const [name, value] of defs) {
    // __NR_syscalls is the table size; __NR_arch_specific_syscall marks where arch-private numbers
    // start. Neither names a syscall.
    if (!name.startsWith('__NR_') || name === '__NR_syscalls' || name === '__NR_arch_specific_syscall') continue;
    const nr = resolve(value);
    if (nr === undefined) throw new Error(`gen-syscalls: ${file}: cannot resolve ${name} = "${value}"`);
    out.set(name.slice('__NR_'.length), nr);
  }
  if (out.size < 100) throw new Error(`gen-syscalls: ${file}: only ${out.size} syscalls found`);
  return out;
}

function addNewer(arch, table, offset) {
  const added = [];
  for (const s of NEWER_SYSCALLS) {
    if (s.only && !s.only.includes(arch)) continue;
    if (table.has(s.name)) continue;
    table.set(s.name, offset + s.nr);
    added.push(s.name);
  }
  return added;
}

function render(tables, sources) {
  const lines = [];
  lines.push('// Generated by scripts/gen-syscalls.mjs; do not edit. Regenerate: node scripts/gen-syscalls.mjs');
  lines.push('//');
  for (const s of sources) lines.push(`// ${s}`);
  lines.push('');
  lines.push('/** Syscall name → number, for one seccomp architecture. */');
  lines.push('export type SyscallTable = Readonly<Record<string, number>>;');
  lines.push('');
  for (const [arch, ident, table] of tables) {
    const entries = [...table].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    lines.push(`/** ${arch}: ${entries.length} syscalls. */`);
    lines.push(`export const ${ident}: SyscallTable = Object.freeze({`);
    for (const [name, nr] of entries) {
      const value = nr >= X32_SYSCALL_BIT ? `0x40000000 + ${nr - X32_SYSCALL_BIT}` : String(nr);
      lines.push(`  ${name}: ${value},`);
    }
    lines.push('});');
    lines.push('');
  }
  lines.push('/** Every architecture berth has a syscall table for. */');
  lines.push('export const SYSCALL_TABLES = Object.freeze({');
  for (const [arch, ident] of tables) lines.push(`  ${arch}: ${ident},`);
  lines.push('});');
  lines.push('');
  lines.push('export type SyscallTableArch = keyof typeof SYSCALL_TABLES;');
  lines.push('');
  return lines.join('\n');
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const inc = opts.include;
  const asmDir = [join(inc, 'x86_64-linux-gnu/asm'), join(inc, 'asm')];
  const f64 = firstExisting(asmDir.map((d) => join(d, 'unistd_64.h')));
  const f32 = firstExisting(asmDir.map((d) => join(d, 'unistd_32.h')));
  const fx32 = firstExisting(asmDir.map((d) => join(d, 'unistd_x32.h')));
  const fgen = firstExisting([join(inc, 'asm-generic/unistd.h')]);

  const x86_64 = parsePlain(f64);
  const i386 = parsePlain(f32);
  const x32 = parseX32(fx32);
  const aarch64 = parseGeneric(fgen, AARCH64_DEFINES);

  const sources = [
    'Sources (kernel UAPI headers):',
    `  SCMP_ARCH_X86_64   ${f64}`,
    `  SCMP_ARCH_X86      ${f32}`,
    `  SCMP_ARCH_X32      ${fx32} (numbers include __X32_SYSCALL_BIT)`,
    `  SCMP_ARCH_AARCH64  ${fgen} (with arm64's __ARCH_WANT_* macros)`,
  ];
  const added = [
    ['SCMP_ARCH_X86_64', addNewer('SCMP_ARCH_X86_64', x86_64, 0)],
    ['SCMP_ARCH_X86', addNewer('SCMP_ARCH_X86', i386, 0)],
    ['SCMP_ARCH_X32', addNewer('SCMP_ARCH_X32', x32, X32_SYSCALL_BIT)],
    ['SCMP_ARCH_AARCH64', addNewer('SCMP_ARCH_AARCH64', aarch64, 0)],
  ].filter(([, names]) => names.length > 0);
  if (added.length > 0) {
    sources.push('Added from the kernel syscall tables (newer than these headers):');
    for (const [arch, names] of added) sources.push(`  ${arch}: ${names.join(' ')}`);
  }

  const text = render(
    [
      ['SCMP_ARCH_X86_64', 'X86_64', x86_64],
      ['SCMP_ARCH_X86', 'X86', i386],
      ['SCMP_ARCH_X32', 'X32', x32],
      ['SCMP_ARCH_AARCH64', 'AARCH64', aarch64],
    ],
    sources,
  );
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src/runtime/seccomp/syscalls.ts');
  if (opts.check) {
    const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`gen-syscalls: ${out} is out of date; run node scripts/gen-syscalls.mjs\n`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(out, text);
  process.stdout.write(
    `gen-syscalls: wrote ${out} (x86_64 ${x86_64.size}, x86 ${i386.size}, x32 ${x32.size}, aarch64 ${aarch64.size})\n`,
  );
}

main();
