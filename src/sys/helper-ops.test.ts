/**
 * The plan wire format: the op codes of helper-ops.ts agree with native/ops.h, and encodePlan
 * lays records out as the C decoder reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Op, Rq, decodePlanHeaders, encodePlan, encodeRecord, type PlanOp } from './helper-ops.js';

/** The directory holding package.json, found by walking up from this (compiled) file. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** `#define OP_NAME N` (or RQ_NAME) lines of native/ops.h, OP_MAX apart. */
function headerOps(prefix: 'OP' | 'RQ' = 'OP'): { ops: Map<string, number>; max: number | undefined; dupes: string[] } {
  const text = readFileSync(join(packageRoot(), 'native', 'ops.h'), 'utf8');
  const ops = new Map<string, number>();
  const dupes: string[] = [];
  let max: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*#\s*define\s+(OP|RQ)_([A-Z0-9_]+)\s+(\S+)/.exec(line);
    if (!m || m[1] !== prefix) continue;
    const [, , name, value] = m as unknown as [string, string, string, string];
    assert.match(value, /^\d+$/, `native/ops.h: ${prefix}_${name} is not a plain decimal number: ${value}`);
    const n = Number(value);
    if (name === 'MAX') {
      max = n;
      continue;
    }
    if (ops.has(name)) dupes.push(name);
    ops.set(name, n);
  }
  return { ops, max, dupes };
}

test('native/ops.h and Op name the same ops with the same codes', () => {
  const { ops, max, dupes } = headerOps();
  assert.deepEqual(dupes, [], 'ops defined twice in native/ops.h');
  assert.ok(ops.size > 0, 'no OP_ defines found in native/ops.h');
  const ts = new Map<string, number>(Object.entries(Op));
  const missingInTs = [...ops.keys()].filter((k) => !ts.has(k));
  const missingInC = [...ts.keys()].filter((k) => !ops.has(k));
  assert.deepEqual(missingInTs, [], 'ops in native/ops.h but not in Op (src/sys/helper-ops.ts)');
  assert.deepEqual(missingInC, [], 'ops in Op (src/sys/helper-ops.ts) but not in native/ops.h');
  const differ = [...ops].filter(([k, v]) => ts.get(k) !== v).map(([k, v]) => `${k}: C ${v}, TS ${ts.get(k)}`);
  assert.deepEqual(differ, [], 'op codes that differ');
  assert.deepEqual(Object.fromEntries(ts), Object.fromEntries(ops));
  // Codes are unique on both sides, so that a code names one op.
  const codes = [...ts.values()];
  assert.equal(new Set(codes).size, codes.length, 'two ops share a code');
  assert.equal(max, Math.max(...codes), 'OP_MAX is the largest op code');
  assert.equal(Op.END, 0);
  assert.equal(Op.CLONE, 2);
});

test('native/ops.h and Rq name the same rooted requests with the same codes', () => {
  const { ops, dupes } = headerOps('RQ');
  assert.deepEqual(dupes, [], 'requests defined twice in native/ops.h');
  assert.ok(ops.size > 0, 'no RQ_ defines found in native/ops.h');
  assert.deepEqual(Object.fromEntries(Object.entries(Rq)), Object.fromEntries(ops), 'Rq (src/sys/helper-ops.ts) and the RQ_ codes of native/ops.h');
  const codes = Object.values(Rq);
  assert.equal(new Set(codes).size, codes.length, 'two requests share a code');
  assert.ok(!(codes as number[]).includes(0), 'no request has code 0');
});

test('encodeRecord lays one record out as encodePlan does', () => {
  const fields = [1, 'a/b', Buffer.from([7, 8])];
  const rec = encodeRecord(Rq.SETXATTR, fields);
  const plan = encodePlan([{ op: 'MOUNT', fields, what: 'w' }]);
  assert.equal(rec.readUInt32LE(0), Rq.SETXATTR);
  assert.equal(rec.readUInt32LE(4), 8 + 4 + 2);
  assert.deepEqual(rec.subarray(4), plan.subarray(8, 8 + rec.length - 4));
});

test('encodePlan: a u32 total length, then records, then END', () => {
  const buf = encodePlan([]);
  assert.equal(buf.length, 4 + 8);
  assert.equal(buf.readUInt32LE(0), 8);
  assert.equal(buf.readUInt32LE(4), Op.END);
  assert.equal(buf.readUInt32LE(8), 0);

  const ops: PlanOp[] = [
    { op: 'CHDIR', fields: ['/x'], what: 'cd' },
    { op: 'READY', fields: [], what: 'ready' },
  ];
  const b2 = encodePlan(ops);
  // CHDIR: 8 header + "/x\0"; READY: 8; END: 8.
  assert.equal(b2.readUInt32LE(0), 8 + 3 + 8 + 8);
  assert.equal(b2.length, 4 + b2.readUInt32LE(0));
});

test('encodePlan: record layout of numbers, bigints, negative numbers, strings and bytes', () => {
  const raw = Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef]);
  const buf = encodePlan([
    { op: 'MOUNT', fields: [0x1234_5678_9a, 2n ** 63n + 5n, -1, 'héllo', '', raw, -2n], what: 'w' },
  ]);
  let off = 4;
  assert.equal(buf.readUInt32LE(off), Op.MOUNT);
  const len = buf.readUInt32LE(off + 4);
  const utf8 = Buffer.byteLength('héllo');
  assert.equal(len, 8 + 8 + 8 + (utf8 + 1) + 1 + raw.length + 8);
  off += 8;
  assert.equal(buf.readBigUInt64LE(off), 0x1234_5678_9an);
  off += 8;
  assert.equal(buf.readBigUInt64LE(off), 2n ** 63n + 5n);
  off += 8;
  // -1 wraps to 2^64-1.
  assert.equal(buf.readBigUInt64LE(off), 0xffff_ffff_ffff_ffffn);
  off += 8;
  assert.equal(buf.toString('utf8', off, off + utf8), 'héllo');
  assert.equal(buf[off + utf8], 0);
  off += utf8 + 1;
  assert.equal(buf[off], 0, 'the empty string is a lone NUL');
  off += 1;
  assert.deepEqual(buf.subarray(off, off + raw.length), raw);
  off += raw.length;
  assert.equal(buf.readBigUInt64LE(off), 2n ** 64n - 2n, '-2n wraps');
  off += 8;
  // END follows.
  assert.equal(buf.readUInt32LE(off), Op.END);
  assert.equal(buf.readUInt32LE(off + 4), 0);
  assert.equal(off + 8, buf.length);
  assert.equal(buf.readUInt32LE(0), buf.length - 4);
});

test('encodePlan: numbers are little-endian u64', () => {
  const buf = encodePlan([{ op: 'UMASK', fields: [0x0102], what: 'w' }]);
  assert.deepEqual([...buf.subarray(12, 20)], [0x02, 0x01, 0, 0, 0, 0, 0, 0]);
});

test('encodePlan: rejects a NUL inside a string and a non-integer number', () => {
  assert.throws(() => encodePlan([{ op: 'CHDIR', fields: ['a\0b'], what: 'w' }]), /NUL/);
  assert.throws(() => encodePlan([{ op: 'UMASK', fields: [1.5], what: 'w' }]), /not an integer/);
});

test('decodePlanHeaders round-trips encodePlan', () => {
  const ops: PlanOp[] = [
    { op: 'CGROUP_TASKS', fields: ['/sys/fs/cgroup/x/tasks'], what: 'w' },
    { op: 'CGROUP_INTO', fields: [1, '/sys/fs/cgroup/unified/x'], what: 'w' },
    { op: 'SETNS', fields: [0x10000000, '/proc/1/ns/user'], what: 'w' },
    { op: 'CLONE', fields: [0, 1, '', ''], what: 'w' },
    { op: 'SECCOMP', fields: [0, 3, Buffer.from([1, 2, 3])], what: 'w' },
    { op: 'READY', fields: [], what: 'w' },
    { op: 'EXEC', fields: [1, 0, 'sh'], what: 'w' },
  ];
  const headers = decodePlanHeaders(encodePlan(ops));
  assert.deepEqual(
    headers.map((h) => h.op),
    [...ops.map((o) => o.op), 'END'],
  );
  assert.deepEqual(
    headers.map((h) => h.len),
    [Buffer.byteLength('/sys/fs/cgroup/x/tasks') + 1, 8 + Buffer.byteLength('/sys/fs/cgroup/unified/x') + 1, 8 + 16, 8 + 8 + 1 + 1, 8 + 8 + 3, 0, 8 + 8 + 3, 0],
  );
  // An unknown code decodes as its number.
  const buf = Buffer.alloc(4 + 8 + 8);
  buf.writeUInt32LE(16, 0);
  buf.writeUInt32LE(999, 4);
  buf.writeUInt32LE(0, 8);
  assert.deepEqual(decodePlanHeaders(buf), [
    { op: 999, len: 0 },
    { op: 'END', len: 0 },
  ]);
});
