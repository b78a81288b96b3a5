import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceProgram, deviceProgramItems } from './devices-bpf.js';

test('device program: a rule matching everything ends the program (no unreachable default the verifier refuses)', () => {
  const items = deviceProgramItems([{ allow: false, access: 'rwm' }, { allow: true, type: 'a', access: 'rwm' }]);
  // 6 loads and shifts, then the allow-all rule's return: nothing after it
  assert.equal(items.length, 8);
  assert.equal(deviceProgram([{ allow: true, access: 'rwm' }]).length, 8 * 8);
  // with only rules that can miss, the default deny closes the program
  const d = deviceProgram([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
  assert.deepEqual([...d.subarray(d.length - 16)], [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
});

test('device program: a bad type or access names the rule', () => {
  assert.throws(() => deviceProgram([{ allow: true, type: 'x' }]), /linux\.resources\.devices\[0\]\.type: "x": a, b or c/);
  assert.throws(() => deviceProgram([{ allow: false }, { allow: true, type: 'c', access: 'rq' }]), /linux\.resources\.devices\[1\]\.access: "rq": only r, w and m/);
});
