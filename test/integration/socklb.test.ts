/**
 * The socket programs for published ports (src/network/socklb.ts), on a cgroup of the test's own:
 * a process in that cgroup connecting to a "published" 127.0.0.1 port reaches the target the map
 * names, sees the published address as its peer, and one outside the cgroup is not redirected;
 * the entry goes with removal and the programs with the last entry. Seen from outside with
 * bpftool. Only loopback is involved.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addLocalPorts, cgroup2Root, removeLocalPorts } from '../../src/network/socklb.js';
import { assemble, I } from '../../src/sys/ebpf.js';
import { runFsPlanSync } from '../../src/sys/fsops.js';
import type { PublishedPort } from '../../src/network/firewall.js';
import { helperPath } from '../../src/sys/paths.js';
import { isRoot } from '../helpers.js';

const root = cgroup2Root();
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = !isRoot ? 'needs root' : !root ? 'needs a cgroup2 mount' : !have('bpftool') ? 'needs bpftool (scripts/setup.sh installs it)' : !existsSync(helperPath()) ? 'berth-helper not built' : false;

const bpftool = (...args: string[]) => {
  const r = spawnSync('bpftool', ['-j', ...args], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : [];
};
const attached = (dir: string) => (bpftool('cgroup', 'show', dir) as { name: string; attach_type: string }[]).map((p) => `${p.attach_type} ${p.name}`).sort();

/** Connects to 127.0.0.1:port from a node process in `cgroup` (or here); what it saw. */
async function client(port: number, cgroup?: string, host = '127.0.0.1'): Promise<{ peer?: string; got?: string; error?: string }> {
  const js = `const s=require('net').connect(${port},'${host}',()=>{o.peer=s.remoteAddress+':'+s.remotePort});const o={};s.on('data',(d)=>{o.got=String(d);s.destroy();console.log(JSON.stringify(o))});s.on('error',(e)=>console.log(JSON.stringify({error:e.code})))`;
  const cmd = cgroup ? `echo $$ > ${cgroup}/cgroup.procs && exec "${process.execPath}" -e "$0"` : `exec "${process.execPath}" -e "$0"`;
  // (async: the target server answers from this process)
  const p = spawn('sh', ['-c', cmd, js], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const status = await new Promise<number | null>((r) => p.on('close', r));
  assert.equal(status, 0, err);
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('socket programs for published ports', { skip }, () => {
  const dir = join(root ?? '/nonexistent', `berth-socklb-test-${process.pid}`);
  let server: Server;
  let target = 0;
  let published = 0;

  before(async () => {
    mkdirSync(dir);
    server = createServer((s) => s.end('from-target'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    target = (server.address() as { port: number }).port;
    // A port nothing listens on: only the redirect can answer there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    published = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });

  after(() => {
    server?.close();
    // Whatever a failed test left: detached by removing every entry it could have made.
    removeLocalPorts([{ hostIp: '127.0.0.1', hostPort: published, containerPort: target, proto: 'tcp', containerIp: '127.0.0.1', local: true }], dir);
    try {
      rmdirSync(dir);
    } catch {
      /* a client still in it is gone by now */
    }
  });

  it('redirects connect() in the cgroup, reports the published address as the peer, and detaches with the last entry', async () => {
    const ports: PublishedPort[] = [
      { hostIp: '127.0.0.1', hostPort: published, containerPort: target, proto: 'tcp', containerIp: '127.0.0.1' },
      { hostIp: '127.0.0.1', hostPort: published, containerPort: target, proto: 'udp', containerIp: '127.0.0.1' },
    ];
    assert.deepEqual(attached(dir), []);
    addLocalPorts(ports, undefined, dir);
    assert.equal(ports[0]!.local, true);
    assert.equal(ports[1]!.local, undefined, 'UDP is left to the DNAT rules');
    assert.deepEqual(attached(dir), ['cgroup_inet4_connect berth_connect4', 'cgroup_inet4_getpeername berth_getpeer4', 'cgroup_inet6_connect berth_connect6', 'cgroup_inet6_getpeername berth_getpeer6']);

    const inside = await client(published, dir);
    assert.equal(inside.got, 'from-target');
    assert.equal(inside.peer, `127.0.0.1:${published}`, 'getpeername gives the address connected to');
    assert.equal((await client(published)).error, 'ECONNREFUSED', 'a process outside the cgroup is not redirected');

    // Adding again (another container's start) loads nothing twice.
    addLocalPorts([{ ...ports[0]!, local: undefined }], undefined, dir);
    assert.equal(attached(dir).length, 4);

    removeLocalPorts(ports, dir);
    assert.deepEqual(attached(dir), [], 'the programs go with the last entry');
    assert.equal((await client(published, dir)).error, 'ECONNREFUSED');
  });

  it('keeps an entry of a port published on one address when another container publishes it on every address, and removes only its own', async () => {
    const own: PublishedPort = { hostIp: '127.0.0.1', hostPort: published, containerPort: target, proto: 'tcp', containerIp: '127.0.0.1' };
    // The wildcard one points nowhere useful: 127.0.0.1:1 refuses.
    const wild: PublishedPort = { hostIp: '', hostPort: published, containerPort: 1, proto: 'tcp', containerIp: '127.0.0.1' };
    addLocalPorts([own], undefined, dir);
    addLocalPorts([wild], undefined, dir);
    assert.equal((await client(published, dir)).got, 'from-target', 'the address of its own wins');
    removeLocalPorts([wild], dir);
    assert.equal((await client(published, dir)).got, 'from-target', 'removing the other left this one');
    removeLocalPorts([own], dir);
    assert.deepEqual(attached(dir), []);
  });

  it('sends [::1]:PORT where PORT is published on every address to the target over IPv4 (a mapped address), and reports [::1] as the peer', async () => {
    const wild: PublishedPort = { hostIp: '', hostPort: published, containerPort: target, proto: 'tcp', containerIp: '127.0.0.1' };
    addLocalPorts([wild], undefined, dir);
    assert.deepEqual(attached(dir), ['cgroup_inet4_connect berth_connect4', 'cgroup_inet4_getpeername berth_getpeer4', 'cgroup_inet6_connect berth_connect6', 'cgroup_inet6_getpeername berth_getpeer6']);
    const six = await client(published, dir, '::1');
    assert.equal(six.got, 'from-target');
    assert.equal(six.peer, `::1:${published}`);
    assert.equal((await client(published, dir)).got, 'from-target', 'and 127.0.0.1 as well');
    removeLocalPorts([wild], dir);
    // Published on 127.0.0.1 only: [::1] is not it (as Docker).
    const own: PublishedPort = { ...wild, hostIp: '127.0.0.1' };
    addLocalPorts([own], undefined, dir);
    assert.equal((await client(published, dir, '::1')).error, 'ECONNREFUSED');
    removeLocalPorts([own], dir);
    assert.deepEqual(attached(dir), []);
  });

  it('refuses a program the kernel\'s verifier rejects with its reason, and attaches nothing', () => {
    const bad = assemble([I.exit()]); // r0 never set
    assert.throws(
      () => runFsPlanSync([{ op: 'BPF_PROG', fields: [18, 10, dir, 'berth_bad', 'Apache-2.0', bad.length, bad], what: 'a bad program' }]),
      /: a bad program: permission denied \(R0 !read_ok\)$/,
    );
    assert.deepEqual(attached(dir), []);
  });

  it('marks and saves the ports before it loads anything, and takes the mark back (saved again) when that fails', () => {
    const notCgroup = mkdtempSync(join(tmpdir(), 'berth-socklb-'));
    try {
      const ports: PublishedPort[] = [{ hostIp: '127.0.0.1', hostPort: published, containerPort: target, proto: 'tcp', containerIp: '127.0.0.1' }];
      const saved: (boolean | undefined)[] = [];
      addLocalPorts(ports, () => saved.push(ports[0]!.local), notCgroup);
      assert.deepEqual(saved, [true, undefined]);
      assert.equal(ports[0]!.local, undefined);
    } finally {
      rmSync(notCgroup, { recursive: true, force: true });
    }
  });
});
