/** `berth run` as a user types it: an image's layers as the container's root, Docker's defaults. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;

describe('berth run', { skip }, () => {
  const root = tmp('berth-run-root-');
  const runroot = tmp('berth-run-runroot-');
  const berth = (...args: string[]) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 60_000 });
  before(() => assert.equal(berth('starter').status, 0));
  after(() => {
    for (const id of berth('ps', '-aq').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    cleanupTmp();
  });

  it('runs --rm busybox echo hello and leaves nothing', () => {
    const r = berth('run', '--rm', 'busybox', 'echo', 'hello');
    assert.equal(r.stdout, 'hello\n', r.stderr);
    assert.equal(r.status, 0);
    assert.equal(berth('ps', '-aq').stdout, '');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(runroot));
  });

  it("exits with the container's code, keeps it without --rm, and removes it with rm", () => {
    const r = berth('run', '--name', 'three', 'busybox', 'sh', '-c', 'exit 3');
    assert.equal(r.status, 3);
    assert.match(berth('ps', '-a').stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n[0-9a-f]{12}\s+busybox\s+"sh -c exit 3"\s+.* ago\s+Exited \(3\) .* ago\s+three\n$/);
    assert.equal(berth('ps').stdout.split('\n').length, 2, 'ps without -a lists no exited container');
    const dup = berth('run', '--name', 'three', 'busybox', 'true');
    assert.equal(dup.status, 125);
    assert.match(dup.stderr, /The container name "\/three" is already in use/);
    const rmi = berth('rmi', 'busybox');
    assert.equal(rmi.status, 125);
    assert.match(rmi.stderr, /a container uses it/);
    assert.equal(berth('rm', 'three').stdout, 'three\n');
    assert.equal(berth('ps', '-aq').stdout, '');
  });

  it('gives the container its own pid, uts and network namespaces and Docker-like defaults', () => {
    const r = berth('run', '--rm', '-h', 'boxy', '-e', 'GREETING=hi', '-w', '/tmp', 'busybox', 'sh', '-c', 'echo $$ $(hostname) $GREETING $(pwd); ls /sys/class/net; grep CapEff /proc/self/status');
    assert.equal(r.status, 0, r.stderr);
    const [first, net, caps] = r.stdout.trim().split('\n');
    assert.equal(first, '1 boxy hi /tmp');
    assert.equal(net, 'lo');
    assert.match(caps!, /CapEff:\s+00000000a80425fb/);
  });

  it('keeps two containers of one image apart, and the image unchanged', () => {
    assert.equal(berth('run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo mine > /etc/written').status, 0);
    const other = berth('run', '--rm', 'busybox', 'sh', '-c', 'cat /etc/written 2>&1 || echo absent');
    assert.match(other.stdout, /absent/);
    berth('rm', 'writer');
  });

  it('applies --memory, --cpus and --pids-limit to the cgroup', () => {
    const r = berth('run', '--rm', '-m', '64m', '--cpus', '0.5', '--pids-limit', '20', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${64 * 1024 * 1024}\n50000\n20\n`);
  });

  it('reports 127, 125 and bad values with one line', () => {
    const nf = berth('run', '--rm', 'busybox', 'no-such-command');
    assert.equal(nf.status, 127);
    assert.equal(nf.stderr, 'berth: exec: "no-such-command": executable file not found in $PATH\n');
    const ni = berth('run', '--rm', 'no-such-image', 'true');
    assert.equal(ni.status, 125);
    assert.equal(ni.stderr, 'berth: No such image: no-such-image\n');
    const mem = berth('run', '--rm', '-m', 'lots', 'busybox', 'true');
    assert.equal(mem.status, 125);
    assert.match(mem.stderr, /invalid memory "lots"/);
    const cpu = berth('run', '--rm', '--cpus', '-1', 'busybox', 'true');
    assert.equal(cpu.status, 125);
    assert.equal(berth('ps', '-aq').stdout, '');
  });
});
