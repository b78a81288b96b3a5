/**
 * Device rules on cgroup v2: no devices controller there, so the runtime attaches an eBPF device
 * program (default deny, the spec's rules) to the container's cgroup2 directory. The test mounts a
 * cgroup2 hierarchy of its own and runs containers with a layout of only that hierarchy, so no v1
 * devices controller takes part: what is denied, the program denied.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Runtime } from '../../src/runtime/index.js';
import { bundle, cleanupTmp, isRoot, tmp, uniqueId } from '../helpers.js';
import type { Spec } from '../../src/oci/runtime-spec.js';

const mnt = isRoot ? tmp('berth-cg2-') : '';
const mounted = isRoot && spawnSync('mount', ['-t', 'cgroup2', 'none', mnt]).status === 0;
const skip = !isRoot ? 'needs root' : !mounted ? 'cannot mount a cgroup2 hierarchy here' : false;

/** The container may mknod and gets every capability it needs for it. */
function withMknod(s: Spec): void {
  const caps = s.process!.capabilities!;
  for (const k of ['bounding', 'effective', 'permitted'] as const) caps[k] = [...(caps[k] ?? []), 'CAP_MKNOD'];
}

const SCRIPT = [
  'mknod /tmp/disk b 8 0 2>&1 && echo disk-mknod-ok',
  'mknod /tmp/null c 1 3 && echo -n x > /tmp/null && echo null-ok',
  // made by the test on the host before the start: opening it needs the cgroup's leave
  // made by the test on the host before the start: opening it needs no capability, only the
  // cgroup's leave (an unbound loop device reads as empty)
  'head -c1 /loop-node >/dev/null 2>/tmp/err && echo loop-open-ok || cat /tmp/err',
  'mknod /tmp/loop2 b 7 0 2>/dev/null && echo loop-mknod-ok',
  'true',
].join('; ');

describe('device rules on cgroup v2 (eBPF device program)', { skip }, () => {
  const layout = { mode: 'v2' as const, v1: {}, unified: mnt };
  const rt = new Runtime({ root: tmp('berth-state-'), cgroupLayout: layout });
  const cgParent = `/berth-test-${uniqueId('dev')}`;

  async function run(edit: (s: Spec) => void) {
    const id = uniqueId('dev');
    const b = bundle(['sh', '-c', SCRIPT], (s) => {
      withMknod(s);
      s.linux!.cgroupsPath = `${cgParent}/${id}`;
      edit(s);
    });
    // A device node already in the rootfs: /dev/loop0 (b 7:0), which no default rule allows.
    spawnSync('mknod', [join(b.rootfs, 'loop-node'), 'b', '7', '0']);
    const out = join(b.dir, 'out.txt');
    const fd = openSync(out, 'w');
    let attached = '';
    try {
      const r = await rt.run(id, {
        bundle: b.dir,
        stdio: ['ignore', fd, fd],
        onStart: () => {
          // While it runs: the program on its cgroup, seen from outside.
          const dir = join(mnt, cgParent, id);
          attached = existsSync(dir) ? spawnSync('bpftool', ['cgroup', 'show', dir], { encoding: 'utf8' }).stdout ?? '' : 'no cgroup directory';
        },
      });
      return { ...r, output: readFileSync(out, 'utf8'), attached, cgroupGone: !existsSync(join(mnt, cgParent, id)) };
    } finally {
      closeSync(fd);
    }
  }

  before(() => mkdirSync(join(mnt, cgParent), { recursive: true }));
  after(() => {
    spawnSync('rmdir', [join(mnt, cgParent)]);
    spawnSync('umount', [mnt]);
    cleanupTmp();
  });

  it('denies mknod and open of devices no rule allows (EPERM), allows the default ones', async () => {
    const r = await run(() => {});
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /mknod: \/tmp\/disk: Operation not permitted/);
    assert.doesNotMatch(r.output, /disk-mknod-ok/);
    assert.match(r.output, /null-ok/);
    assert.match(r.output, /head: \/loop-node: Operation not permitted/);
    assert.doesNotMatch(r.output, /loop-mknod-ok/);
    if (spawnSync('sh', ['-c', 'command -v bpftool']).status === 0) assert.match(r.attached, /device\s+.*berth_devices/);
    assert.ok(r.cgroupGone, 'the cgroup (and its program) stays after delete');
  });

  it('allows what a rule allows: an allow-all rule (as --privileged) lets the same container make and open them', async () => {
    const r = await run((s) => {
      s.linux!.resources = { ...s.linux!.resources, devices: [{ allow: true, access: 'rwm' }] };
    });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /disk-mknod-ok/);
    assert.match(r.output, /loop-open-ok/);
    assert.match(r.output, /loop-mknod-ok/);
  });

  it('an access is allowed only where a rule names it: mknod allowed for b 7:0, reading it still denied', async () => {
    const r = await run((s) => {
      s.linux!.resources = { ...s.linux!.resources, devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 7, minor: 0, access: 'm' }] };
    });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /loop-mknod-ok/);
    assert.match(r.output, /head: \/loop-node: Operation not permitted/);
    assert.doesNotMatch(r.output, /disk-mknod-ok/);
  });
});
