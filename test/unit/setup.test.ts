/**
 * scripts/setup.sh's two sets of Debian packages: what berth itself uses (npm run demo) and what
 * its tests and benchmarks add (npm test, npm run bench). --list prints them without installing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { berthPackageRoot } from '../../src/sys/paths.js';

const script = join(berthPackageRoot(), 'scripts', 'setup.sh');
const list = (path: string) => spawnSync('bash', [script, '--list', path], { encoding: 'utf8' });

test('setup.sh --list: the demo path ensures berth\'s own needs only, the test path the anchors too', () => {
  const demo = list('demo');
  assert.equal(demo.status, 0, demo.stderr);
  const d = demo.stdout.trim().split('\n');
  for (const p of ['busybox-static', 'iproute2', 'nftables', 'gcc', 'make']) assert.ok(d.includes(p), `demo lacks ${p}`);
  // The tools berth is measured against never come with the demo (docker.io would start dockerd).
  for (const p of ['docker.io', 'podman', 'conmon', 'crun', 'runc', 'skopeo', 'hyperfine', 'iperf3', 'bpftool']) assert.ok(!d.includes(p), `demo installs ${p}`);
  const t = list('test').stdout.trim().split('\n');
  for (const p of d) assert.ok(t.includes(p), `test lacks ${p} of demo`);
  for (const p of ['docker.io', 'podman', 'skopeo', 'bpftool']) assert.ok(t.includes(p), `test lacks ${p}`);
  assert.equal(new Set(t).size, t.length, 'a package listed twice');
});

test('setup.sh: an unknown path or argument is refused with one line and exit 2', () => {
  const r = list('nosuch');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^setup: unknown path "nosuch" \(demo or test\)\n$/);
  const u = spawnSync('bash', [script, '--bogus'], { encoding: 'utf8' });
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown argument "--bogus"/);
});
