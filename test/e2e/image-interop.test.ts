/**
 * Round trips with the anchors, where they are installed: a `berth save` archive loads in podman
 * and docker (a dockerd the test starts on its own socket) with the same image id; what they save,
 * berth loads; skopeo copies berth's OCI archive to an OCI layout with the same manifest digest.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ImageService, loadArchive, saveArchive } from '../../src/engine/index.js';
import { cleanupTmp, isRoot, tmp, waitFor } from '../helpers.js';

const podman = ['/usr/bin/podman'].find((p) => existsSync(p));
const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
const dockerCli = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
const skopeo = ['/usr/bin/skopeo'].find((p) => existsSync(p));

describe('image archives with podman, docker and skopeo', { skip: !isRoot ? 'needs root' : false }, () => {
  const dir = tmp('berth-interop-');
  const pm = (...args: string[]) => spawnSync(podman!, ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), ...args], { encoding: 'utf8', timeout: 120_000 });
  after(() => {
    if (podman) spawnSync(podman, ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), 'system', 'reset', '-f'], { timeout: 60_000 });
    cleanupTmp();
  });

  it('podman loads what berth saves, with the same image id; berth loads what podman saves', { skip: !podman ? 'podman is not installed' : false }, async () => {
    const svc = new ImageService({ root: tmp() });
    const rec = await svc.starter('busybox:interop');
    const file = join(dir, 'berth.tar');
    await saveArchive(svc, ['busybox:interop'], createWriteStream(file), { format: 'docker-archive', file });
    const l = pm('load', '-i', file);
    assert.equal(l.status, 0, l.stderr);
    assert.equal(pm('image', 'inspect', '--format', '{{.Id}}', 'docker.io/library/busybox:interop').stdout.trim(), rec.id.slice(7));

    for (const format of ['docker-archive', 'oci-archive']) {
      const out = join(dir, `podman-${format}.tar`);
      const s = pm('save', '--format', format, '-o', out, 'docker.io/library/busybox:interop');
      assert.equal(s.status, 0, s.stderr);
      const other = new ImageService({ root: tmp() });
      const loaded = await loadArchive(other, createReadStream(out), { source: out });
      assert.equal(loaded[0]!.id, rec.id, `${format}: ${JSON.stringify(loaded)}`);
    }
  });

  it('docker loads what berth saves and berth loads what docker saves, with the same image id', { skip: !dockerd || !dockerCli ? 'docker (docker.io) is not installed' : false }, async () => {
    // A daemon of our own, on a socket in a temporary directory, without networking.
    const d = join(dir, 'docker');
    const sock = join(d, 'docker.sock');
    const daemon = spawn(dockerd!, ['--iptables=false', '--ip-masq=false', '--bridge=none', '--data-root', join(d, 'data'), '--exec-root', join(d, 'exec'), '-H', `unix://${sock}`, '--pidfile', join(d, 'docker.pid')], { stdio: 'ignore' });
    const docker = (...args: string[]) => spawnSync(dockerCli!, ['-H', `unix://${sock}`, ...args], { encoding: 'utf8', timeout: 120_000 });
    try {
      await waitFor('dockerd to answer', () => docker('version').status === 0);
      const svc = new ImageService({ root: tmp() });
      const rec = await svc.starter('busybox:docker');
      const file = join(dir, 'berth-for-docker.tar');
      await saveArchive(svc, ['busybox:docker'], createWriteStream(file), { format: 'docker-archive', file });
      const l = docker('load', '-i', file);
      assert.equal(l.status, 0, l.stderr);
      assert.equal(docker('image', 'inspect', '--format', '{{.Id}}', 'busybox:docker').stdout.trim(), rec.id);
      const out = join(dir, 'docker-saved.tar');
      assert.equal(docker('save', '-o', out, 'busybox:docker').status, 0);
      const other = new ImageService({ root: tmp() });
      const loaded = await loadArchive(other, createReadStream(out), { source: out });
      assert.deepEqual(loaded, [{ id: rec.id, ref: 'busybox:docker' }]);
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
      for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
        const mp = line.split(' ')[4];
        if (mp && mp.startsWith(d)) spawnSync('umount', ['-l', mp]);
      }
    }
  });

  it('skopeo copies berth’s OCI archive to a layout with the same manifest digest', { skip: !skopeo ? 'skopeo is not installed' : false }, async () => {
    const svc = new ImageService({ root: tmp() });
    const rec = await svc.starter('busybox:oci');
    const file = join(dir, 'berth-oci.tar');
    await saveArchive(svc, ['busybox:oci'], createWriteStream(file), { format: 'oci-archive', file });
    const layout = join(dir, 'layout');
    const c = spawnSync(skopeo!, ['copy', '-q', '--preserve-digests', `oci-archive:${file}`, `oci:${layout}:copy`], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(c.status, 0, c.stderr);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, rec.manifestDigest);
  });
});
