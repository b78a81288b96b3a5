/**
 * A real OCI client: podman (from Debian, through conmon) drives berth-runtime as it drives crun.
 * Podman works in a temporary storage root with an image imported from the busybox rootfs.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeBusyboxRootfs } from '../../src/engine/index.js';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';
import { podmanConf } from '../podman-conf.js';

const podmanPath = ['/usr/bin/podman', '/usr/local/bin/podman'].find((p) => existsSync(p));
const runtime = join(berthPackageRoot(), 'bin', 'berth-runtime');
const skip = !isRoot ? 'needs root' : !podmanPath ? 'podman is not installed (scripts/setup.sh installs it)' : false;

describe('podman with --runtime berth-runtime', { skip }, () => {
  const dir = tmp('berth-podman-');
  const base = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--runtime', runtime, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  // podman reads a configuration of this test's own, never the host's /etc/containers.
  const env = { ...process.env, CONTAINERS_CONF: podmanConf(dir) };
  const podman = (...args: string[]) => spawnSync(podmanPath!, [...base, ...args], { encoding: 'utf8', timeout: 60_000, env });

  before(() => {
    const rootfs = join(dir, 'rootfs');
    makeBusyboxRootfs(rootfs);
    execFileSync('tar', ['-C', rootfs, '-cf', join(dir, 'rootfs.tar'), '.']);
    const r = podman('import', join(dir, 'rootfs.tar'), 'localhost/berth-busybox:latest');
    assert.equal(r.status, 0, r.stderr);
  });

  after(() => {
    podman('rm', '-af', '-t', '0');
    podman('rmi', '-af');
    spawnSync(podmanPath!, [...base, 'system', 'reset', '-f'], { timeout: 60_000, env });
    // Nothing of podman's storage may stay mounted.
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
      const mp = line.split(' ')[4];
      if (mp && mp.startsWith(dir)) spawnSync('umount', ['-l', mp]);
    }
    cleanupTmp();
  });

  it('runs --rm busybox echo hi', () => {
    const r = podman('run', '--rm', 'localhost/berth-busybox', 'echo', 'hi');
    assert.equal(r.stdout, 'hi\n', r.stderr);
    assert.equal(r.status, 0);
  });

  it('gives the container a terminal through the console socket (-t)', () => {
    const r = podman('run', '--rm', '-t', 'localhost/berth-busybox', 'sh', '-c', 'tty; stty size');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n/);
  });

  it("passes the container's exit code and 127 for a missing command", () => {
    assert.equal(podman('run', '--rm', 'localhost/berth-busybox', 'sh', '-c', 'exit 3').status, 3);
    const r = podman('run', '--rm', 'localhost/berth-busybox', 'no-such-command');
    assert.equal(r.status, 127);
    assert.match(r.stderr, /executable file not found/);
  });

  it('runs detached, execs into it, logs, stops and removes', () => {
    const id = podman('run', '-d', 'localhost/berth-busybox', 'sh', '-c', 'echo started; trap "exit 0" TERM; while :; do sleep 0.1; done').stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ex = podman('exec', id, 'sh', '-c', 'echo exec-ok; cat /proc/1/cmdline | tr "\\0" " "');
    assert.match(ex.stdout, /exec-ok\nsh -c echo started/);
    assert.match(podman('logs', id).stdout, /started/);
    assert.equal(podman('stop', '-t', '5', id).status, 0);
    assert.match(podman('inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id).stdout, /exited 0/);
    assert.equal(podman('rm', id).status, 0);
  });
});
