/**
 * Bad input to the runtime: each case gets a clear error naming what is wrong, and leaves nothing
 * behind (no state directory, cgroup, mount or process).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { detectCgroups, resolveCgroupPath } from '../../src/runtime/cgroups/index.js';
import { TestRuntime, bundle, cleanupTmp, isRoot, uniqueId, waitFor } from '../helpers.js';

const skip = !isRoot ? 'needs root' : false;

describe('runtime: bad input', { skip }, () => {
  const t = new TestRuntime();
  afterEach(() => t.cleanup());
  after(() => cleanupTmp());

  /** Nothing of container `id` remains: state, cgroup in any hierarchy, mounts of the bundle. */
  function assertNothingLeft(id: string, bundleDir: string, cgroupPath = resolveCgroupPath(undefined, id)) {
    assert.equal(existsSync(t.rt.store.dir(id)), false, 'state directory left behind');
    const layout = detectCgroups();
    for (const mp of new Set([...Object.values(layout.v1), ...(layout.unified ? [layout.unified] : [])])) {
      assert.equal(existsSync(join(mp, cgroupPath)), false, `cgroup ${join(mp, cgroupPath)} left behind`);
    }
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(bundleDir), 'mount left behind');
    assert.equal(t.rt.list().some((c) => c.id === id), false);
  }

  async function createFails(b: ReturnType<typeof bundle>, re: RegExp, id = uniqueId()) {
    await assert.rejects(t.rt.create(id, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] }), re);
    assertNothingLeft(id, b.dir);
  }

  it('names the JSON path of an invalid config.json', async () => {
    const b = bundle(['true']);
    writeFileSync(join(b.dir, 'config.json'), '{"ociVersion": "1.0.2", "process": {');
    await createFails(b, /config\.json: invalid JSON/);
    writeFileSync(join(b.dir, 'config.json'), JSON.stringify({ ...b.spec, process: { ...b.spec.process, args: 'echo hi' } }));
    await createFails(b, /config\.json: process\.args: must be an array/);
    writeFileSync(join(b.dir, 'config.json'), JSON.stringify({ ...b.spec, process: { ...b.spec.process, user: { uid: -1, gid: 0 } } }));
    await createFails(b, /process\.user\.uid: -1 is out of range/);
    writeFileSync(join(b.dir, 'config.json'), JSON.stringify({ ...b.spec, mounts: [{ destination: 'relative', type: 'tmpfs' }] }));
    await createFails(b, /mounts\[0\]\.destination: must be an absolute path/);
  });

  it('reports a missing bundle and a missing rootfs', async () => {
    await assert.rejects(t.rt.create(uniqueId(), { bundle: '/nonexistent/bundle' }), /config\.json not found/);
    const b = bundle(['true']);
    rmSync(b.rootfs, { recursive: true });
    await createFails(b, /root filesystem ".*rootfs" does not exist/);
  });

  it('exits 127 for a binary that is not there and 126 for one that cannot execute', async () => {
    const b = bundle(['no-such-binary']);
    const id = uniqueId();
    await assert.rejects(t.rt.create(id, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] }), (e: Error & { exitCode?: number }) => {
      assert.match(e.message, /exec: "no-such-binary": executable file not found in \$PATH/);
      assert.equal(e.exitCode, 127);
      return true;
    });
    assertNothingLeft(id, b.dir);
    const b2 = bundle(['/etc/passwd']);
    const id2 = uniqueId();
    await assert.rejects(t.rt.run(id2, { bundle: b2.dir, stdio: ['ignore', 'ignore', 'ignore'] }), (e: Error & { exitCode?: number }) => {
      assert.match(e.message, /exec: "\/etc\/passwd": permission denied/);
      assert.equal(e.exitCode, 126);
      return true;
    });
    assertNothingLeft(id2, b2.dir);
  });

  it('rejects an unknown namespace type', async () => {
    const b = bundle(['true'], (s) => s.linux!.namespaces!.push({ type: 'bogus' as never }));
    await createFails(b, /linux\.namespaces\[6\]\.type: unknown namespace type "bogus"/);
  });

  it('refuses a duplicate container id and leaves the first one alone', async () => {
    const b = bundle(['sleep', '30']);
    const { id, pid } = await t.start(b);
    await assert.rejects(t.rt.create(id, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] }), /already exists/);
    assert.equal(t.rt.state(id).status, 'running');
    assert.equal(t.rt.state(id).pid, pid);
  });

  it('refuses to kill a stopped container, to start a running one and to delete a running one', async () => {
    const b = bundle(['sh', '-c', 'exit 0']);
    const id = uniqueId();
    await t.rt.create(id, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    await t.rt.start(id);
    await waitFor('the container to stop', () => t.rt.state(id).status === 'stopped');
    assert.throws(() => t.rt.kill(id, 'SIGTERM'), /cannot kill container ".*": it is stopped/);
    await t.rt.delete(id);
    assert.throws(() => t.rt.kill(id, 'SIGTERM'), /does not exist/);

    const created = uniqueId();
    await t.rt.create(created, { bundle: b.dir, stdio: ['ignore', 'ignore', 'ignore'] });
    await assert.rejects(t.rt.delete(created), /not stopped: it is created/);
    assert.equal(t.rt.state(created).status, 'created');
    await t.rt.delete(created, true);

    const running = await t.start(bundle(['sleep', '30']));
    await assert.rejects(t.rt.start(running.id), /it is running, not created/);
    await assert.rejects(t.rt.delete(running.id), /not stopped: it is running/);
    assert.equal(t.rt.state(running.id).status, 'running');
    await t.rt.delete(running.id, true);
    assertNothingLeft(running.id, b.dir);
  });

  it('cleans up after the helper fails halfway (a mount the kernel refuses)', async () => {
    const b = bundle(['true'], (s) => s.mounts!.push({ destination: '/mnt/x', type: 'nosuchfs', source: 'none' }));
    await createFails(b, /mount "nosuchfs" on mounts\[7\] "\/mnt\/x" \(.*rootfs\/mnt\/x\): no such device/);
    const b2 = bundle(['true'], (s) => (s.linux!.sysctl = { 'kernel.no_such_sysctl': '1' }));
    await createFails(b2, /set sysctl kernel\.no_such_sysctl="1" \(\/proc\/sys\/kernel\/no_such_sysctl\): no such file or directory/);
  });

  it('cleans up after a failing prestart hook', async () => {
    const b = bundle(['true'], (s) => (s.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo nope >&2; exit 3'] }] }));
    await createFails(b, /prestart hook 0 "\/bin\/sh": exit status 3: nope/);
  });

  it('rejects a bind mount whose source does not exist, and invalid cgroup values', async () => {
    const b = bundle(['true'], (s) => s.mounts!.push({ destination: '/data', type: 'bind', source: '/no/such/dir', options: ['rbind'] }));
    await createFails(b, /mounts\[7\]\.source: bind source "\/no\/such\/dir" does not exist/);
    const b2 = bundle(['true'], (s) => (s.linux!.resources = { ...s.linux!.resources, cpu: { cpus: 'zero-three' } }));
    await createFails(b2, /linux\.resources\.cpu\.cpus/);
  });

  it('rejects an invalid container id', async () => {
    const b = bundle(['true']);
    await assert.rejects(t.rt.create('../escape', { bundle: b.dir }), /invalid container id/);
    chmodSync(b.dir, 0o755);
  });
});
