import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assemble, I } from './ebpf.js';

const hex = (b: Buffer) => b.toString('hex').match(/.{16}/g)!;

test('encodes instructions as the kernel reads them: opcode, registers, offset, immediate', () => {
  assert.deepEqual(hex(assemble([I.mov(6, 1), I.ldxW(2, 6, 36), I.ldxB(2, 8, 6), I.stxDW(10, -16, 0), I.movImm(0, 1), I.exit()])), [
    'bf16000000000000', // r6 = r1
    '6162240000000000', // r2 = *(u32 *)(r6 + 36)
    '7182060000000000', // r2 = *(u8 *)(r8 + 6)
    '7b0af0ff00000000', // *(u64 *)(r10 - 16) = r0
    'b700000001000000', // r0 = 1
    '9500000000000000', // exit
  ]);
});

test('a map load takes two slots and marks its immediate as a map (pseudo fd)', () => {
  assert.deepEqual(hex(assemble([I.ldMap(1, 1), I.call(1)])), ['1811000001000000', '0000000000000000', '8500000001000000']);
});

test('resolves jumps to labels forward and counts a map load as two', () => {
  const code = assemble([I.jne(2, { imm: 6 }, 'out'), I.ldMap(1, 0), I.jeq(0, { src: 7 }, 'out'), 'out', I.exit()]);
  const h = hex(code);
  assert.equal(h[0], '5502030006000000'); // if r2 != 6 goto +3
  assert.equal(h[3], '1d70000000000000'); // if r0 == r7 goto +0
  assert.throws(() => assemble([I.jeq(0, { imm: 0 }, 'nowhere')]), /label nowhere is not defined/);
  assert.throws(() => assemble(['a', 'a']), /defined twice/);
});
