/**
 * A host that lacks what berth uses: `info` says what is missing and what follows, one line each,
 * and a command that needs it fails with one line naming the Debian package. The host's tools are
 * hidden with BERTH_TOOL_PATH (where berth looks for ip, nft and iptables).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;

describe('a host without the tools berth uses', { skip }, () => {
  const dir = tmp('berth-hostcheck-');
  const empty = join(dir, 'no-tools');
  mkdirSync(empty);
  const berth = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(bin, ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  after(() => {
    berth(['system', 'reset', '-f']);
    cleanupTmp();
  });

  it('info says nothing is lacking on this host, and names what is missing where tools are hidden', () => {
    const full = berth(['info']);
    assert.equal(full.status, 0, full.stderr);
    assert.match(full.stdout, /^Cgroups: (v1|hybrid|v2) \(device rules: /m);
    assert.doesNotMatch(full.stdout, /^Host lacks:/m, 'this host has every tool');
    const bare = berth(['info'], { BERTH_TOOL_PATH: empty });
    assert.equal(bare.status, 0, bare.stderr);
    assert.match(bare.stdout, /^Host lacks:\n no ip command: networks unavailable; containers run with --network none or host \(install iproute2\)\n no nft and no iptables: nothing masqueraded or isolated; published ports go through a userland proxy \(install nftables\)\n/m);
    assert.match(bare.stdout, /^ Firewall: none /m);
  });

  it('a network command fails with one line naming iproute2, and leaves no network behind', () => {
    const r = berth(['network', 'create', 'lacking'], { BERTH_TOOL_PATH: empty });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error response from daemon: .*the ip command is missing \(install the Debian package iproute2\)\n$/);
    const ls = berth(['network', 'ls', '--format', '{{.Name}}']);
    assert.equal(ls.status, 0, ls.stderr);
    assert.doesNotMatch(ls.stdout, /^lacking$/m, 'the network was recorded');
  });
});
