/**
 * Fuzzes berth-helper's plan decoder: random bytes, valid length prefixes with random records,
 * and mutations of valid plans. Each run must end quickly, exit non-zero, and report an
 * `error IDX ERRNO MESSAGE` line on the result fd; never a crash signal, never a hang. A model
 * of the C decoder (decode() below) predicts which error each case gets.
 *
 * Safety: the helper runs as whoever runs the tests (root in CI). No case may reach OP_CLONE or
 * any parent-stage op (SETNS, CGROUP_TASKS, CGROUP_INTO, CONSOLE_CONNECT, OPEN_FIFO) with fuzzed data: every
 * case is checked with the model before it is run, and only plans that fail to decode, or that
 * decode with no CLONE record and a first op the helper refuses before the clone, are fed to it.
 * The helper runs in a temporary directory.
 *
 * BERTH_FUZZ_SEED=N reproduces or varies the run (the default seed is fixed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { Op, encodePlan, type PlanOp } from '../../src/sys/helper-ops.js';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

const ROOT = packageRoot();
const HELPER = join(ROOT, 'native', 'out', 'berth-helper');
const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 0x6265727468) >>> 0;
const TIMEOUT_MS = 2000;
const CONCURRENCY = 8;
const MAX_PLAN = 64 << 20;
const OP_MAX = Math.max(...Object.values(Op));
const EINVAL = 22;
/**
 * Ops the helper executes before the clone, and FS_MODE (as the first record it makes the helper
 * run every following op in place): never let fuzzed data reach them.
 */
const PARENT_STAGE = new Set<number>([Op.SETNS, Op.CGROUP_TASKS, Op.CGROUP_INTO, Op.CONSOLE_CONNECT, Op.OPEN_FIFO, Op.FS_MODE, Op.LOG, Op.EXIT_COMMAND, Op.HEALTH, Op.PTY, Op.ATTACH]);

// ---------------------------------------------------------------------------------------------
// A model of read_plan() and the start of main() in native/plan.c.

type Outcome =
  | { decoded: false; idx: number; message: string; errno?: number }
  | { decoded: true; codes: number[]; idx: number; message: string; errno: number };

function decode(buf: Buffer): Outcome {
  if (buf.length < 4) return { decoded: false, idx: -1, message: 'read plan length' };
  const total = buf.readUInt32LE(0);
  if (total > MAX_PLAN) return { decoded: false, idx: -1, message: 'plan too large', errno: EINVAL };
  if (buf.length - 4 < total) return { decoded: false, idx: -1, message: 'read plan' };
  const codes: number[] = [];
  let off = 0;
  while (off + 8 <= total) {
    const code = buf.readUInt32LE(4 + off);
    const len = buf.readUInt32LE(4 + off + 4);
    off += 8;
    if (len > total - off) return { decoded: false, idx: codes.length, message: 'record runs past the end of the plan', errno: EINVAL };
    if (code > OP_MAX) return { decoded: false, idx: codes.length, message: 'unknown op code', errno: EINVAL };
    codes.push(code);
    off += len;
    if (code === Op.END) break;
  }
  if (codes.length === 0 || codes[codes.length - 1] !== Op.END) return { decoded: false, idx: codes.length, message: 'plan has no end record', errno: EINVAL };
  codes.pop();
  if (codes.length === 0) return { decoded: true, codes, idx: 0, message: 'plan has no clone record', errno: EINVAL };
  return { decoded: true, codes, idx: 0, message: 'op not allowed before clone', errno: EINVAL };
}

/**
 * The op codes of every record header in `buf`, walked leniently (whatever the length prefix says,
 * past unknown codes, up to END or a length that runs past the bytes there are): a check that does
 * not depend on the model above agreeing with the C.
 */
function headerCodes(buf: Buffer): number[] {
  const codes: number[] = [];
  let off = 4;
  while (off + 8 <= buf.length) {
    const code = buf.readUInt32LE(off);
    const len = buf.readUInt32LE(off + 4);
    codes.push(code);
    if (code === Op.END || len > buf.length - off - 8) break;
    off += 8 + len;
  }
  return codes;
}

/**
 * Whether the helper may be fed `buf`. By the model, it fails to decode, or decodes with no CLONE
 * and a first op the helper refuses before the clone; and, read leniently, no record is a CLONE
 * and the first one is no parent-stage op.
 */
function safe(buf: Buffer): boolean {
  const walked = headerCodes(buf);
  if (walked.includes(Op.CLONE) || (walked.length > 0 && PARENT_STAGE.has(walked[0]!))) return false;
  const d = decode(buf);
  if (!d.decoded) return true;
  if (d.codes.includes(Op.CLONE)) return false;
  return d.codes.length === 0 || !PARENT_STAGE.has(d.codes[0]!);
}

// ---------------------------------------------------------------------------------------------
// Running the helper.

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  results: string;
  stderr: string;
  ms: number;
}

let workDir: string;

function runHelper(plan: Buffer): Promise<Run> {
  assert.ok(safe(plan), 'refusing to run an unsafe plan'); // the last line of defence
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const child = spawn(HELPER, ['3', '4'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      cwd: workDir,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    let results = '';
    let stderr = '';
    (child.stdio[4] as Readable).setEncoding('utf8').on('data', (s: string) => (results += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const planIn = child.stdio[3] as Writable;
    // The helper may exit before it read everything (a bad length): EPIPE/ECONNRESET are expected.
    planIn.on('error', () => {});
    planIn.end(plan);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, results, stderr, ms: Date.now() - start });
    });
  });
}

async function pool<T, R>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

const hex = (b: Buffer) => (b.length > 96 ? b.subarray(0, 96).toString('hex') + `… (${b.length} bytes)` : b.toString('hex'));

interface Case {
  name: string;
  plan: Buffer;
}

/** Runs every case (bounded concurrency) and checks each against the model; lists all failures. */
async function check(cases: Case[]): Promise<void> {
  for (const c of cases) assert.ok(safe(c.plan), `${c.name}: generated an unsafe plan`);
  const failures: string[] = [];
  await pool(cases, CONCURRENCY, async (c) => {
    const r = await runHelper(c.plan);
    const want = decode(c.plan);
    const problems: string[] = [];
    if (r.timedOut) problems.push(`did not end within ${TIMEOUT_MS} ms`);
    if (r.signal) problems.push(`killed by ${r.signal}`);
    if (!r.timedOut && r.code === 0) problems.push('exit status 0');
    const line = /^error (-?\d+) (\d+) (.*)$/m.exec(r.results);
    if (!line) problems.push(`no error line on fd 4 (got ${JSON.stringify(r.results)})`);
    else {
      const [, idx, errno, message] = line;
      if (Number(idx) !== want.idx || message !== want.message || (want.errno !== undefined && Number(errno) !== want.errno))
        problems.push(`reported ${JSON.stringify(line[0])}, the model expects "error ${want.idx} ${want.errno ?? 'ERRNO'} ${want.message}"`);
    }
    if (!r.timedOut && !r.signal && r.code !== 1) problems.push(`exit status ${r.code}, not 1`);
    if (problems.length) failures.push(`${c.name} [seed ${SEED}]: ${problems.join('; ')}\n    plan ${hex(c.plan)}${r.stderr ? `\n    stderr ${r.stderr.trim()}` : ''}`);
  });
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed:\n  ${failures.slice(0, 20).join('\n  ')}`);
}

// ---------------------------------------------------------------------------------------------
// Case generators.

/** mulberry32: a small seeded PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n); // [0, n)
  return {
    int,
    u32: () => int(0x100000000) >>> 0,
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!,
    bytes: (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = int(256);
      return b;
    },
  };
}
type Rng = ReturnType<typeof prng>;

/** Generates `n` safe cases with `make`; a candidate the model finds unsafe is replaced by another. */
function generate(n: number, name: string, seed: number, make: (r: Rng) => Buffer): Case[] {
  const r = prng(seed);
  const out: Case[] = [];
  let tries = 0;
  while (out.length < n) {
    if (++tries > n * 20) throw new Error(`${name}: too many unsafe candidates`);
    const plan = make(r);
    if (safe(plan)) out.push({ name: `${name} #${out.length}`, plan });
  }
  return out;
}

function withLength(body: Buffer): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt32LE(body.length, 0);
  body.copy(b, 4);
  return b;
}

function record(code: number, payload: Buffer, len = payload.length): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(code >>> 0, 0);
  h.writeUInt32LE(len >>> 0, 4);
  return Buffer.concat([h, payload]);
}

/** Op codes the helper refuses before the clone (valid to decode, never executed there). */
const REFUSED_FIRST = Object.values(Op).filter((c) => c !== Op.END && c !== Op.CLONE && !PARENT_STAGE.has(c));
/** Any decodable op but CLONE. */
const NOT_CLONE = Object.values(Op).filter((c) => c !== Op.CLONE);

/** An op code to put first: one refused before the clone, or one the decoder does not know. */
function firstCode(r: Rng): number {
  return r.chance(0.7) ? r.pick(REFUSED_FIRST) : r.pick([OP_MAX + 1, OP_MAX + 2, 0x100, 0x7fffffff, 0xffffffff, OP_MAX + 1 + r.int(1 << 20)]);
}

/** Valid plans whose first op is harmless (refused before the clone) and that hold no CLONE. */
const BASE_PLANS: PlanOp[][] = [
  [
    { op: 'MKDIR', fields: [0o755, '/nonexistent-berth-fuzz/a'], what: '' },
    { op: 'MOUNT', fields: [4096 | 16384, '/nonexistent-berth-fuzz/src', '/nonexistent-berth-fuzz/a', '', ''], what: '' },
    { op: 'SYMLINK', fields: ['/proc/self/fd', '/nonexistent-berth-fuzz/fd'], what: '' },
    { op: 'WRITE_FILE', fields: ['/nonexistent-berth-fuzz/f', 'content'], what: '' },
    { op: 'EXEC', fields: [2, 1, '/bin/false', 'x', 'PATH=/bin'], what: '' },
  ],
  [
    { op: 'READY', fields: [], what: '' },
    { op: 'SECCOMP', fields: [0, 8, Buffer.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f])], what: '' },
    { op: 'IDENTITY', fields: [65534, 65534, 2, 1, 2], what: '' },
    { op: 'CAPS', fields: [-1n, 0, 0, 0, 0], what: '' },
    { op: 'RESOLVE_EXEC', fields: ['/nonexistent-berth-fuzz', 'sh'], what: '' },
    { op: 'RLIMIT', fields: [7, 1024, 1024], what: '' },
    { op: 'EXEC', fields: [1, 0, 'sh'], what: '' },
  ],
  [
    { op: 'UMASK', fields: [0o22], what: '' },
    { op: 'RUN_HOOK', fields: [1, 1, 1, '/nonexistent-berth-fuzz/hook', 'hook', 'A=1', '{}'], what: '' },
    { op: 'MKNOD', fields: [0o020666, 259n, 0, 0, '/nonexistent-berth-fuzz/null'], what: '' },
    { op: 'SYNC', fields: ['createRuntime'], what: '' },
    { op: 'PRESERVE_FDS', fields: [0], what: '' },
    { op: 'CONSOLE_SETUP', fields: [24, 80, 0, 0], what: '' },
  ],
];

const INTERESTING_U32 = [0, 1, 3, 7, 8, 9, 0x7f, 0xff, 0x100, 0xffff, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff, OP_MAX, OP_MAX + 1, MAX_PLAN, MAX_PLAN + 1];

function mutate(r: Rng, base: Buffer): Buffer {
  let b = Buffer.from(base);
  const rounds = 1 + r.int(3);
  for (let k = 0; k < rounds; k++) {
    switch (r.int(7)) {
      case 0: // truncate
        b = b.subarray(0, r.int(b.length + 1));
        break;
      case 1: // flip bytes
        b = Buffer.from(b);
        for (let i = 1 + r.int(8); i > 0 && b.length > 0; i--) b[r.int(b.length)] ^= 1 << r.int(8);
        break;
      case 2: // an interesting u32 somewhere (often a record header field)
        if (b.length >= 4) {
          b = Buffer.from(b);
          const at = r.chance(0.5) ? Math.min(b.length - 4, 4 * r.int(b.length / 4)) : r.int(b.length - 3);
          const v = r.pick(INTERESTING_U32);
          b.writeUInt32LE(r.chance(0.2) ? (v + r.int(16) - 8) >>> 0 : v, at);
        }
        break;
      case 3: // insert random bytes
        {
          const at = r.int(b.length + 1);
          b = Buffer.concat([b.subarray(0, at), r.bytes(1 + r.int(24)), b.subarray(at)]);
        }
        break;
      case 4: // delete a range
        {
          const at = r.int(b.length + 1);
          b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + r.int(16)))]);
        }
        break;
      case 5: // duplicate a range
        {
          const at = r.int(b.length + 1);
          const end = Math.min(b.length, at + 1 + r.int(32));
          b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
        }
        break;
      case 6: // drop the trailing END record
        b = b.subarray(0, Math.max(0, b.length - 8));
        break;
    }
  }
  // Half the time the length prefix is made to match, so that decoding reaches the records.
  if (r.chance(0.5) && b.length >= 4) {
    b = Buffer.from(b);
    b.writeUInt32LE(b.length - 4, 0);
  }
  return b;
}

// ---------------------------------------------------------------------------------------------

before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'berth-fuzz-'));
  if (!existsSync(HELPER)) {
    const r = spawnSync('make', ['-C', join(ROOT, 'native')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `make -C native failed:\n${r.stdout}${r.stderr}`);
  }
  assert.ok(existsSync(HELPER), `${HELPER} missing`);
});

after(() => {
  if (workDir) {
    const left = readdirSync(workDir);
    rmSync(workDir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'the helper created files in its working directory');
  }
});

describe('berth-helper plan decoder', () => {
  test('the model refuses unsafe plans', () => {
    assert.equal(safe(encodePlan([{ op: 'CLONE', fields: [0, 1, '', ''], what: '' }])), false);
    assert.equal(safe(encodePlan([{ op: 'READY', fields: [], what: '' }, { op: 'CLONE', fields: [0, 1, '', ''], what: '' }])), false);
    assert.equal(safe(encodePlan([{ op: 'SETNS', fields: [0, '/x'], what: '' }])), false);
    assert.equal(safe(encodePlan([{ op: 'OPEN_FIFO', fields: ['/x'], what: '' }])), false);
    assert.equal(safe(encodePlan([{ op: 'READY', fields: [], what: '' }])), true);
    assert.equal(safe(encodePlan([])), true);
    // A CLONE record after an unknown op would not decode, but is refused all the same.
    assert.equal(safe(withLength(Buffer.concat([record(999, Buffer.alloc(0)), record(Op.CLONE, Buffer.alloc(24)), record(Op.END, Buffer.alloc(0))]))), false);
    // So is one behind a length prefix that does not match.
    assert.equal(safe(Buffer.concat([Buffer.from([1, 0, 0, 0]), record(Op.READY, Buffer.alloc(0)), record(Op.CLONE, Buffer.alloc(24))])), false);
    assert.equal(safe(withLength(Buffer.concat([record(999, Buffer.alloc(0)), record(Op.READY, Buffer.alloc(0))]))), true);
  });

  test('a plan with only END: "plan has no clone record", exit status 1', async () => {
    const r = await runHelper(encodePlan([]));
    assert.equal(r.signal, null);
    assert.equal(r.code, 1);
    assert.equal(r.results, `error 0 ${EINVAL} plan has no clone record\n`);
  });

  test('a valid plan whose first op is not allowed before the clone', async () => {
    const r = await runHelper(encodePlan([{ op: 'MKDIR', fields: [0o755, '/nonexistent-berth-fuzz'], what: '' }]));
    assert.equal(r.code, 1);
    assert.equal(r.results, `error 0 ${EINVAL} op not allowed before clone\n`);
  });

  test('edge cases of the framing', async () => {
    const u32 = (v: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(v >>> 0);
      return b;
    };
    const manyReady = Buffer.concat([...Array.from({ length: 20000 }, () => record(Op.READY, Buffer.alloc(0))), record(Op.END, Buffer.alloc(0))]);
    const cases: Case[] = [
      { name: 'empty input', plan: Buffer.alloc(0) },
      { name: 'two bytes', plan: Buffer.from([8, 0]) },
      { name: 'total 0', plan: u32(0) },
      { name: 'total 4, half a header', plan: withLength(Buffer.alloc(4)) },
      { name: 'total just above 64 MiB', plan: u32(MAX_PLAN + 1) },
      { name: 'total 0xffffffff', plan: u32(0xffffffff) },
      { name: 'total 64 MiB, no body', plan: u32(MAX_PLAN) },
      { name: 'total larger than the body', plan: Buffer.concat([u32(100), record(Op.END, Buffer.alloc(0))]) },
      { name: 'record length 0xffffffff', plan: withLength(record(Op.READY, Buffer.alloc(8), 0xffffffff)) },
      { name: 'record length one past the end', plan: withLength(Buffer.concat([record(Op.READY, Buffer.alloc(0)), record(Op.END, Buffer.alloc(4), 5)])) },
      { name: 'op code OP_MAX+1', plan: withLength(Buffer.concat([record(OP_MAX + 1, Buffer.alloc(0)), record(Op.END, Buffer.alloc(0))])) },
      { name: 'op code 0xffffffff', plan: withLength(record(0xffffffff, Buffer.alloc(0))) },
      { name: 'no END record', plan: withLength(record(Op.READY, Buffer.alloc(0))) },
      { name: 'trailing bytes after the last header', plan: withLength(Buffer.concat([record(Op.READY, Buffer.alloc(0)), Buffer.alloc(7)])) },
      { name: 'END with a payload', plan: withLength(record(Op.END, Buffer.alloc(16))) },
      { name: 'bytes after END inside the total', plan: withLength(Buffer.concat([record(Op.END, Buffer.alloc(0)), u32(0x41414141)])) },
      { name: 'bytes after the total', plan: Buffer.concat([encodePlan([]), Buffer.alloc(64, 0xff)]) },
      { name: '20000 records (the op table grows)', plan: withLength(manyReady) },
      { name: 'unknown op first, then a whole plan', plan: withLength(Buffer.concat([record(0xdead, Buffer.alloc(0)), encodePlan(BASE_PLANS[0]!).subarray(4)])) },
    ];
    await check(cases);
  });

  test('(a) random byte strings', async () => {
    const cases = generate(300, 'random bytes', SEED, (r) => {
      const n = r.chance(0.8) ? r.int(64) : r.int(4096);
      const b = r.bytes(n);
      // A third get a length prefix that fits, so that decoding reaches the random records.
      if (b.length >= 4 && r.chance(0.33)) b.writeUInt32LE(r.int(b.length - 3), 0);
      return b;
    });
    await check(cases);
  });

  test('(b) valid length prefixes followed by random records', async () => {
    const cases = generate(300, 'random records', SEED + 1, (r) => {
      const parts: Buffer[] = [record(firstCode(r), r.bytes(r.int(24)))];
      const n = r.int(12);
      for (let i = 0; i < n; i++) {
        const payload = r.bytes(r.chance(0.3) ? 0 : r.int(64));
        // Mostly the true length; sometimes one that is wrong or runs past the end.
        const len = r.chance(0.8) ? payload.length : r.chance(0.5) ? payload.length + r.int(16) - 8 : r.pick(INTERESTING_U32);
        parts.push(record(r.chance(0.9) ? r.pick(NOT_CLONE) : OP_MAX + 1 + r.int(1000), payload, Math.max(0, len)));
      }
      if (r.chance(0.7)) parts.push(record(Op.END, Buffer.alloc(0)));
      return withLength(Buffer.concat(parts));
    });
    await check(cases);
  });

  test('(c) truncated and mutated valid plans', async () => {
    const bases = BASE_PLANS.map((p) => encodePlan(p));
    for (const b of bases) assert.ok(safe(b) && decode(b).decoded, 'base plans decode and are safe');
    const cases = generate(450, 'mutated plan', SEED + 2, (r) => {
      let b = mutate(r, r.pick(bases));
      // Sometimes an unknown or refused op is put in front of everything else.
      if (r.chance(0.25) && b.length >= 4) b = withLength(Buffer.concat([record(firstCode(r), Buffer.alloc(0)), b.subarray(4)]));
      return b;
    });
    // Enough of them decode, so that the helper's checks after decoding are exercised too.
    const decoded = cases.filter((c) => decode(c.plan).decoded).length;
    assert.ok(decoded >= 20, `only ${decoded} mutated plans decode`);
    await check(cases);
  });
});
