/**
 * Device rules on cgroup v2: there is no devices controller, so the kernel asks a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup instead (as runc and crun attach).
 * The program is compiled here from the spec's rules (linux.resources.devices, in order, the last
 * matching rule deciding, as devices.allow/devices.deny writes do on v1), with a default of deny.
 * A rule matches a request when its type, major and minor match and:
 * - an allow rule grants every access asked for (read, write, mknod);
 * - a deny rule names any of them (v1's devices.deny takes those accesses away).
 * berth-helper only loads and attaches the bytes (fsops' BPF_PROG op).
 */
import { invalidArgument } from '../../lib/errors.js';
import type { DeviceCgroupRule } from '../../oci/runtime-spec.js';
import { I, assemble, type Item } from '../../sys/ebpf.js';
import { runFsPlanSync } from '../../sys/fsops.js';

/** include/uapi/linux/bpf.h */
export const PROG_TYPE_CGROUP_DEVICE = 15;
export const ATTACH_CGROUP_DEVICE = 6;
/** struct bpf_cgroup_dev_ctx: access_type = (access << 16) | type; major; minor (u32 each). */
const DEV_BLOCK = 1;
const DEV_CHAR = 2;
const ACC = { m: 1, r: 2, w: 4 } as const;
const ALL = 7;

function accessMask(access: string | undefined, where: string): number {
  if (access === undefined || access === '') return ALL;
  let m = 0;
  for (const ch of access) {
    const bit = ACC[ch as keyof typeof ACC];
    if (bit === undefined) throw invalidArgument(`${where}.access: ${JSON.stringify(access)}: only r, w and m`);
    m |= bit;
  }
  return m;
}

/** The program's instructions for `rules` (exported for the unit test). */
export function deviceProgramItems(rules: readonly DeviceCgroupRule[]): Item[] {
  const out: Item[] = [
    I.ldxW(2, 1, 0),
    I.mov(3, 2),
    I.andImm(2, 0xffff), // r2: the device's type
    I.rshImm(3, 16), // r3: the accesses asked for
    I.ldxW(4, 1, 4), // r4: major
    I.ldxW(5, 1, 8), // r5: minor
  ];
  // The last rule decides: test them from the end, the first match returns.
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    const where = `linux.resources.devices[${i}]`;
    const next = `rule${i}`;
    const type = r.type ?? 'a';
    if (type === 'b' || type === 'c') out.push(I.jne(2, { imm: type === 'b' ? DEV_BLOCK : DEV_CHAR }, next));
    else if (type !== 'a') throw invalidArgument(`${where}.type: ${JSON.stringify(type)}: a, b or c`);
    if (type !== 'a') {
      if (r.major !== undefined && r.major !== null && r.major >= 0) out.push(I.jne(4, { imm: r.major }, next));
      if (r.minor !== undefined && r.minor !== null && r.minor >= 0) out.push(I.jne(5, { imm: r.minor }, next));
    }
    const m = accessMask(r.access, where);
    const before = out.length;
    if (r.allow && m !== ALL) out.push(I.mov(6, 3), I.andImm(6, ~m & ALL), I.jne(6, { imm: 0 }, next));
    if (!r.allow) out.push(I.mov(6, 3), I.andImm(6, m), I.jeq(6, { imm: 0 }, next));
    const unconditional = type === 'a' && out.length === before;
    out.push(I.movImm(0, r.allow ? 1 : 0), I.exit());
    // A rule that matches everything decides alone: what would follow is unreachable, which
    // the verifier refuses.
    if (unconditional) return out;
    out.push(next);
  }
  out.push(I.movImm(0, 0), I.exit());
  return out;
}

export function deviceProgram(rules: readonly DeviceCgroupRule[]): Buffer {
  return assemble(deviceProgramItems(rules));
}

/** Loads the program for `rules` and attaches it to the cgroup2 directory `dir`. */
export function attachDeviceProgram(dir: string, rules: readonly DeviceCgroupRule[]): void {
  const code = deviceProgram(rules);
  runFsPlanSync([{ op: 'BPF_PROG', fields: [PROG_TYPE_CGROUP_DEVICE, ATTACH_CGROUP_DEVICE, dir, 'berth_devices', 'Apache-2.0', code.length, code], what: `the device rules' program on ${dir}` }]);
}
