/**
 * Networking as a user types it: the default bridge, user-defined networks, published ports,
 * DNS between containers, isolation, --internal, cleanup, concurrency and bad input. Traffic goes
 * only to loopback, to the containers' own subnets, and to an "outside" network namespace this
 * test makes (a veth from the host), never anywhere else; DNS forwarding goes to a stand-in server
 * on 127.0.0.1. Everything is observed from outside too: ip link, nft's rule set, /proc/mounts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { answer, parseQuestion } from '../../src/network/dns-server.js';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp, waitUntil } from '../helpers.js';

/** Whether process `pid` has ended (gone, or a zombie its parent has not reaped yet). */
function ended(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return true;
  }
}

const bin = join(berthPackageRoot(), 'bin', 'berth');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = !isRoot
  ? 'needs root'
  : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs'))
    ? 'not built (npm run build)'
    : !have('nft') || !have('ip') || !have('unshare') || !have('nsenter')
      ? 'needs nft, ip, unshare and nsenter'
      : false;

const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
const links = () => sh('ip -o link show').stdout;
/** The names of the host's links that match `re` (ip -o link: "N: NAME[@PEER]: ..."). */
const linkNames = (re: RegExp) => new Set(links().split('\n').map((l) => / ([^ :@]+)[@:]/.exec(l)?.[1] ?? '').filter((n) => re.test(n)));
/** Links matching `re` that are there now and were not in `before`: what a command left behind. */
const newLinks = (before: Set<string>, re: RegExp) => [...linkNames(re)].filter((n) => !before.has(n));
const nftTable = () => sh('nft list table ip berth 2>/dev/null').stdout;

/** An HTTP GET over a plain socket (busybox httpd answers HTTP/1.0). */
function httpGet(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.write(`GET ${path} HTTP/1.0\r\n\r\n`));
    let data = '';
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

/** An A query over TCP to host:53; the addresses in the answer. */
function tcpQuery(host: string, name: string): Promise<string[]> {
  const q = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0, 0, 1, 0, 1])]);
  return new Promise((resolve, reject) => {
    const s = connect({ host, port: 53 }, () => s.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q])));
    let buf = Buffer.alloc(0);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.on('error', reject);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      s.destroy();
      const m = buf.subarray(2);
      // Answers follow the question: each a name pointer (2), type, class, ttl, rdlength, rdata.
      const out: string[] = [];
      let off = q.length;
      for (let i = 0; i < m.readUInt16BE(6); i++) {
        const len = m.readUInt16BE(off + 10);
        if (m.readUInt16BE(off + 2) === 1 && len === 4) out.push([...m.subarray(off + 12, off + 16)].join('.'));
        off += 12 + len;
      }
      resolve(out);
    });
  });
}

/** A port nothing listens on now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe('berth networking', { skip }, () => {
  const root = tmp('berth-net-root-');
  const runroot = tmp('berth-net-runroot-');
  const tag = randomBytes(3).toString('hex');
  let dnsPort = 0;
  let dnsServer: Socket | undefined;
  let dnsTcp: Server | undefined;
  const env = () => ({ ...process.env, BERTH_DNS_UPSTREAM: `127.0.0.1:${dnsPort}` });
  const berth = (...args: string[]) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 60_000, env: env() });
  const berthAsync = (...args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(bin, ['--root', root, '--runroot', runroot, ...args], { env: env() });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    });
  const inspect = (name: string) => JSON.parse(berth('inspect', name).stdout)[0];
  const ipOf = (name: string, net: string) => inspect(name).NetworkSettings.Networks[net].IPAddress as string;
  // The "outside": a network namespace with a veth to the host (10.253.N.1 on the host side).
  const outNs = join(tmp('berth-net-outside-'), 'ns');
  const third = 1 + (parseInt(tag.slice(0, 2), 16) % 250);
  const outHostIp = `10.253.${third}.1`;
  const outIp = `10.253.${third}.2`;
  const outVeth = `bto${tag}`;
  let outListener: ReturnType<typeof spawn> | undefined;
  const outLog = join(tmp('berth-net-outlog-'), 'seen');
  const nets: string[] = [];

  before(async () => {
    assert.equal(berth('starter').status, 0);
    // A stand-in upstream DNS server on loopback: every A query for *.outside.test is 10.1.2.3.
    dnsServer = createSocket('udp4');
    dnsServer.on('message', (msg, r) => {
      const q = parseQuestion(msg);
      if (!q) return;
      dnsServer!.send(answer(msg, q.end, q.name.endsWith('outside.test') && q.type === 1 ? ['10.1.2.3'] : [], q.name.endsWith('outside.test') ? 0 : 3), r.port, r.address);
    });
    await new Promise<void>((res) => dnsServer!.bind(0, '127.0.0.1', () => res()));
    dnsPort = dnsServer.address().port;
    // Its TCP side, on the same port: length-prefixed messages, the same answers.
    dnsTcp = createServer((c) => {
      c.on('error', () => {});
      c.once('data', (d) => {
        const msg = d.subarray(2, 2 + d.readUInt16BE(0));
        const q = parseQuestion(msg);
        if (!q) return c.destroy();
        const a = answer(msg, q.end, q.name.endsWith('outside.test') && q.type === 1 ? ['10.1.2.3'] : [], q.name.endsWith('outside.test') ? 0 : 3);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(a.length, 0);
        c.end(Buffer.concat([len, a]));
      });
    });
    await new Promise<void>((res, rej) => dnsTcp!.once('error', rej).listen(dnsPort, '127.0.0.1', () => res()));
    writeFileSync(outNs, '');
    const mk = sh(
      [
        `unshare --net=${outNs} true`,
        `ip link add ${outVeth} type veth peer name eth0 netns ${outNs}`,
        `ip addr add ${outHostIp}/30 dev ${outVeth}`,
        `ip link set ${outVeth} up`,
        `nsenter --net=${outNs} sh -c 'ip link set lo up; ip addr add ${outIp}/30 dev eth0; ip link set eth0 up; ip route add default via ${outHostIp}'`,
      ].join(' && '),
    );
    assert.equal(mk.status, 0, mk.stderr);
    // A listener in the outside namespace that writes the peer address of each connection.
    outListener = spawn('nsenter', [`--net=${outNs}`, process.execPath, '-e', `require('net').createServer((s)=>{require('fs').appendFileSync(${JSON.stringify(outLog)}, s.remoteAddress+'\\n'); s.end('outside\\n')}).listen(9000, '${outIp}')`], { stdio: 'ignore' });
    waitUntil('the outside listener on port 9000', () => sh(`nsenter --net=${outNs} cat /proc/net/tcp`).stdout.includes(':2328 '));
  });

  after(() => {
    for (const id of berth('ps', '-aq', '--no-trunc').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    for (const n of nets) berth('network', 'rm', n);
    berth('network', 'prune', '-f');
    outListener?.kill('SIGKILL');
    sh(`ip link del ${outVeth} 2>/dev/null; umount ${outNs} 2>/dev/null`);
    dnsServer?.close();
    dnsTcp?.close();
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  const network = (name: string, ...args: string[]) => {
    const r = berth('network', 'create', ...args, name);
    assert.equal(r.status, 0, r.stderr);
    nets.push(name);
    return r.stdout.trim();
  };

  it('puts a container on the default bridge: eth0, an address, a default route; masquerades its traffic out; rm leaves nothing', () => {
    const r = berth('run', '--name', `d-${tag}`, 'busybox', 'sh', '-c', `ip -o -4 addr show eth0; ip route; echo hi | nc -w 3 ${outIp} 9000`);
    assert.equal(r.status, 0, r.stderr);
    // (An exited container shows no address, as Docker's: the one it had is in its output.)
    const ip = /eth0\s+inet (\d+\.\d+\.\d+\.\d+)\/16/.exec(r.stdout)?.[1] ?? '';
    assert.ok(ip, r.stdout);
    assert.match(r.stdout, /^default via \S+ dev eth0/m);
    assert.match(r.stdout, /outside/);
    // The outside saw the host's address, not the container's: masqueraded.
    assert.equal(readFileSync(outLog, 'utf8').trim().split('\n').pop(), outHostIp);
    const id = inspect(`d-${tag}`).Id as string;
    assert.equal(berth('rm', `d-${tag}`).status, 0);
    assert.ok(!links().includes(`bv${id.slice(0, 11)}`));
    assert.ok(!readFileSync('/proc/mounts', 'utf8').includes(id));
    assert.ok(!nftTable().includes(`${ip} `));
  });

  it('lets containers on a user-defined network reach each other by name and alias, and forwards other names upstream', async () => {
    network(`app-${tag}`);
    const srv = berth('run', '-d', '--name', `srv-${tag}`, '--network', `app-${tag}`, '--network-alias', `db-${tag}`, 'busybox', 'sh', '-c', 'echo page > /i.txt; httpd -f -p 80 -h /');
    assert.equal(srv.status, 0, srv.stderr);
    // (Not spawnSync: the stand-in DNS server answers from this process's event loop.)
    const r = await berthAsync('run', '--rm', '--network', `app-${tag}`, 'busybox', 'sh', '-c', `cat /etc/resolv.conf; for h in srv-${tag} db-${tag}; do printf 'GET /i.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $h 80 | tail -1; done; nslookup a.outside.test`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const gw = inspect(`srv-${tag}`).NetworkSettings.Networks[`app-${tag}`].Gateway;
    assert.match(r.stdout, new RegExp(`^nameserver ${gw}$`, 'm'));
    assert.equal(r.stdout.split('\n').filter((l) => l === 'page').length, 2, r.stdout);
    assert.match(r.stdout, /Address: 10\.1\.2\.3/);
    // The same over TCP: its own names answered, others forwarded over TCP (to the stand-in's TCP side).
    assert.deepEqual(await tcpQuery(gw, `srv-${tag}`), [ipOf(`srv-${tag}`, `app-${tag}`)]);
    assert.deepEqual(await tcpQuery(gw, 'b.outside.test'), ['10.1.2.3']);
    // On the default bridge, names are not resolved (as Docker), and resolv.conf is the host's.
    const d = berth('run', '--rm', 'busybox', 'sh', '-c', `nslookup srv-${tag} 2>&1; cat /etc/resolv.conf`);
    assert.doesNotMatch(d.stdout, new RegExp(`nameserver ${gw}`));
    assert.equal(berth('rm', '-f', `srv-${tag}`).status, 0);
    // The network's DNS server stops with its last container.
    const net = JSON.parse(berth('network', 'inspect', `app-${tag}`).stdout)[0];
    assert.ok(!existsSync(join(runroot, 'dns', `${net.Id}.pid`)));
  });

  it('sends packets between containers of one network straight to the other veth (a tc redirect, counted), and removes that with the container', () => {
    network(`fast-${tag}`);
    const srv = berth('run', '-d', '--name', `fa-${tag}`, '--network', `fast-${tag}`, 'busybox', 'sh', '-c', 'echo fast > /f.txt; httpd -f -p 80 -h /');
    assert.equal(srv.status, 0, srv.stderr);
    const bridge = JSON.parse(berth('network', 'inspect', `fast-${tag}`).stdout)[0].Options['com.docker.network.bridge.name'] as string;
    const block = readFileSync(`/sys/class/net/${bridge}/ifindex`, 'utf8').trim();
    const ip = ipOf(`fa-${tag}`, `fast-${tag}`);
    const hex = ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
    const id = inspect(`fa-${tag}`).Id as string;
    // The filter for its address, and how many packets it redirected so far.
    const sent = () => {
      const out = sh(`tc -s filter show block ${block}`).stdout;
      const at = out.indexOf(`match ${hex}/ffffffff at 16`);
      if (at < 0) return undefined;
      assert.match(out.slice(at), new RegExp(`^[^]*?Redirect to device bv${id.slice(0, 11)}0\\)`));
      return Number(/Sent \d+ bytes (\d+) pkt/.exec(out.slice(at))![1]);
    };
    const before = sent();
    assert.notEqual(before, undefined, 'a redirect for the container is in the bridge\'s block');
    const r = berth('run', '--rm', '--network', `fast-${tag}`, 'busybox', 'wget', '-q', '-O-', `http://fa-${tag}/f.txt`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'fast\n');
    assert.ok(sent()! > before!, 'the request went through the redirect');
    assert.equal(berth('rm', '-f', `fa-${tag}`).status, 0);
    // Gone with the container (the block itself goes with the network's last veth).
    assert.ok(!sh(`tc filter show block ${block} 2>/dev/null`).stdout.includes(hex));
  });

  it('publishes ports: reachable on 127.0.0.1 and the host\'s other addresses, shown by port, ps and inspect, gone after rm', async () => {
    const hp = await freePort();
    const r = berth('run', '-d', '--name', `web-${tag}`, '-p', `${hp}:8080`, '-p', '9090/udp', 'busybox', 'sh', '-c', 'echo hello-web > /w.txt; httpd -f -p 8080 -h /');
    assert.equal(r.status, 0, r.stderr);
    const page = await httpGet('127.0.0.1', hp, '/w.txt');
    assert.match(page, /hello-web/);
    // Published on every address: on the host's [::1] too (as Docker), where the socket programs load.
    if (sh(`awk '$9 == "cgroup2" && $4 == "/" {print $5; exit}' /proc/self/mountinfo`).stdout.trim()) assert.match(await httpGet('::1', hp, '/w.txt'), /hello-web/);
    assert.match(await httpGet(`${outHostIp}`, hp, '/w.txt'), /hello-web/);
    const port = berth('port', `web-${tag}`).stdout;
    assert.match(port, new RegExp(`^8080/tcp -> 0\\.0\\.0\\.0:${hp}$`, 'm'));
    assert.match(port, /^9090\/udp -> 0\.0\.0\.0:\d+$/m);
    assert.equal(berth('port', `web-${tag}`, '8080').stdout, `0.0.0.0:${hp}\n`);
    assert.match(berth('ps').stdout, new RegExp(`0\\.0\\.0\\.0:${hp}->8080/tcp`));
    assert.deepEqual(inspect(`web-${tag}`).NetworkSettings.Ports['8080/tcp'], [{ HostIp: '0.0.0.0', HostPort: String(hp) }]);
    assert.match(nftTable(), new RegExp(`${hp} : \\S+ \\. 8080`));
    // From "another host": the outside namespace, through the host's address on its link.
    const fromOutside = spawnSync('nsenter', [`--net=${outNs}`, process.execPath, '-e', `const s=require('net').connect(${hp}, '${outHostIp}', () => s.write('GET /w.txt HTTP/1.0\\r\\n\\r\\n')); let d=''; s.on('data', (x) => d += x); s.on('end', () => console.log(d)); s.setTimeout(5000, () => s.destroy());`], { encoding: 'utf8' });
    assert.match(fromOutside.stdout, /hello-web/, fromOutside.stderr);
    // From another container, through the host's address (hairpin through the DNAT).
    const other = berth('run', '--rm', 'busybox', 'sh', '-c', `printf 'GET /w.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${outHostIp} ${hp} | tail -1`);
    assert.equal(other.stdout.trim(), 'hello-web', other.stderr);
    assert.equal(berth('rm', '-f', `web-${tag}`).status, 0);
    assert.doesNotMatch(nftTable(), new RegExp(`${hp} : `));
  });

  it('sends the host\'s own connections to a published port straight to the container at connect() (no NAT), with the published address as the peer', { skip: have('bpftool') ? false : 'needs bpftool (scripts/setup.sh installs it)' }, async () => {
    const hp = await freePort();
    const r = berth('run', '-d', '--name', `sock-${tag}`, '-p', `127.0.0.1:${hp}:8080`, 'busybox', 'sh', '-c', 'echo via-socket > /s.txt; httpd -f -p 8080 -h /');
    assert.equal(r.status, 0, r.stderr);
    const ip = ipOf(`sock-${tag}`, 'bridge');
    const gateway = inspect(`sock-${tag}`).NetworkSettings.Networks.bridge.Gateway as string;
    // Seen from outside: the programs on the cgroup2 root, and the port's entry in their map.
    const cg = sh(`awk '$9 == "cgroup2" && $4 == "/" {print $5; exit}' /proc/self/mountinfo`).stdout.trim();
    const progs = sh(`bpftool cgroup show ${cg}`).stdout;
    assert.match(progs, /inet4_connect .*berth_connect4/);
    assert.match(progs, /inet4_getpeername .*berth_getpeer4/);
    assert.match(progs, /inet6_connect .*berth_connect6/);
    assert.match(progs, /inet6_getpeername .*berth_getpeer6/);
    const hex = (ipv4: string, port: number) => [...ipv4.split('.').map(Number), port >> 8, port & 255, 0, 0].map((b) => `0x${b.toString(16).padStart(2, '0')}`);
    // (no map left at all once the programs are detached: bpftool then prints an error object)
    const entries = (): { key: string[]; value: string[] }[] => {
      const out = JSON.parse(sh('bpftool -j map dump name berth_ports 2>/dev/null').stdout.trim() || '[]') as unknown;
      return Array.isArray(out) ? out : [];
    };
    assert.deepEqual(entries().find((e) => e.key.join() === hex('127.0.0.1', hp).join())?.value, hex(ip, 8080));
    // A connection from here: it leaves from the bridge's address (no DNAT and masquerade of
    // 127.0.0.1), and getpeername still says where it connected.
    const seen = await new Promise<{ local: string; peer: string; page: string }>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: hp }, () => s.write('GET /s.txt HTTP/1.0\r\n\r\n'));
      let page = '';
      let local = '';
      let peer = '';
      s.on('connect', () => ((local = s.localAddress!), (peer = `${s.remoteAddress}:${s.remotePort}`)));
      s.on('data', (d) => (page += d));
      s.on('end', () => resolve({ local, peer, page }));
      s.on('error', reject);
      s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    });
    assert.match(seen.page, /via-socket/);
    assert.equal(seen.local, gateway);
    assert.equal(seen.peer, `127.0.0.1:${hp}`);
    // Another network namespace's own 127.0.0.1 is not the host's: nothing redirected there.
    const other = spawnSync('nsenter', [`--net=${outNs}`, process.execPath, '-e', `require('net').connect(${hp}, '127.0.0.1').on('connect', () => console.log('connected')).on('error', (e) => console.log(e.code))`], { encoding: 'utf8' });
    assert.equal(other.stdout.trim(), 'ECONNREFUSED', other.stderr);
    // Without it (BERTH_SOCKET_PORTS=0) the DNAT rules carry 127.0.0.1 as before.
    const hp2 = await freePort();
    const r2 = spawnSync(bin, ['--root', root, '--runroot', runroot, 'run', '-d', '--name', `nat-${tag}`, '-p', `127.0.0.1:${hp2}:8080`, 'busybox', 'sh', '-c', 'echo via-nat > /s.txt; httpd -f -p 8080 -h /'], { encoding: 'utf8', env: { ...env(), BERTH_SOCKET_PORTS: '0' } });
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal(entries().find((e) => e.key.join() === hex('127.0.0.1', hp2).join()), undefined);
    assert.match(await httpGet('127.0.0.1', hp2, '/s.txt'), /via-nat/);
    assert.equal(berth('rm', '-f', `sock-${tag}`, `nat-${tag}`).status, 0);
    assert.equal(entries().find((e) => e.key.join() === hex('127.0.0.1', hp).join()), undefined, 'the entry goes with the container');
  });

  it('gives the container\'s interface the MAC address asked for with --mac-address, also after a restart', () => {
    const r = berth('run', '-d', '--name', `mac-${tag}`, '--mac-address', '92:D0:C6:0A:29:33', 'busybox', 'sleep', '60');
    assert.equal(r.status, 0, r.stderr);
    const seen = () => sh(`nsenter --net=/proc/${inspect(`mac-${tag}`).State.Pid}/ns/net ip -br link show eth0`).stdout.trim().split(/\s+/)[2];
    assert.equal(seen(), '92:d0:c6:0a:29:33');
    assert.equal(inspect(`mac-${tag}`).NetworkSettings.Networks.bridge.MacAddress, '92:d0:c6:0a:29:33');
    assert.equal(berth('restart', '-t', '0', `mac-${tag}`).status, 0);
    assert.equal(seen(), '92:d0:c6:0a:29:33');
    assert.equal(berth('rm', '-f', `mac-${tag}`).status, 0);
  });

  it('links containers as Docker\'s legacy --link does: an /etc/hosts entry and the variables, and refuses a link to one that is not running', () => {
    const db = berth('run', '-d', '--name', `lkdb-${tag}`, '-e', 'SECRET=s3', '-p', '5432', 'busybox', 'sleep', '60');
    assert.equal(db.status, 0, db.stderr);
    const ip = ipOf(`lkdb-${tag}`, 'bridge');
    const id = inspect(`lkdb-${tag}`).Id as string;
    const r = berth('run', '--name', `lkweb-${tag}`, '--link', `lkdb-${tag}:webdb`, 'busybox', 'sh', '-c', 'cat /etc/hosts; env; ping -c 1 -W 2 webdb >/dev/null && echo reached');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${ip.replace(/\./g, '\\.')}\twebdb ${id.slice(0, 12)} lkdb-${tag}$`, 'm'));
    for (const v of [`WEBDB_NAME=/lkweb-${tag}/webdb`, `WEBDB_PORT=tcp://${ip}:5432`, `WEBDB_PORT_5432_TCP=tcp://${ip}:5432`, `WEBDB_PORT_5432_TCP_ADDR=${ip}`, 'WEBDB_PORT_5432_TCP_PORT=5432', 'WEBDB_PORT_5432_TCP_PROTO=tcp', 'WEBDB_ENV_SECRET=s3']) assert.ok(r.stdout.split('\n').includes(v), `${v} in\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, /^WEBDB_ENV_PATH=/m);
    assert.match(r.stdout, /^reached$/m);
    assert.deepEqual(inspect(`lkweb-${tag}`).HostConfig.Links, [`/lkdb-${tag}:/lkweb-${tag}/webdb`]);
    // Docker's refusal: the container linked to must run when this one starts.
    assert.equal(berth('stop', '-t', '0', `lkdb-${tag}`).status, 0);
    const again = berth('start', `lkweb-${tag}`);
    assert.equal(again.status, 1);
    assert.match(again.stderr, new RegExp(`Cannot link to a non running container: /lkdb-${tag} AS /lkweb-${tag}/webdb`));
    assert.equal(berth('rm', '-f', `lkweb-${tag}`, `lkdb-${tag}`).status, 0);
  });

  it('publishes every EXPOSEd port with -P, and writes --dns, --dns-search and --add-host into the container\'s files', async () => {
    assert.equal(berth('create', '--name', `base-${tag}`, '--network', 'none', 'busybox', 'true').status, 0);
    const c = berth('commit', '-c', 'EXPOSE 8080/tcp 9000/udp', `base-${tag}`, `exposing-${tag}:1`);
    assert.equal(c.status, 0, c.stderr);
    berth('rm', `base-${tag}`);
    const r = berth('run', '-d', '--name', `pa-${tag}`, '-P', `exposing-${tag}:1`, 'sh', '-c', 'echo all > /p.txt; httpd -f -p 8080 -h /');
    assert.equal(r.status, 0, r.stderr);
    const port = berth('port', `pa-${tag}`).stdout;
    const hp = Number(/^8080\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(port)?.[1]);
    assert.ok(hp > 0, port);
    assert.match(port, /^9000\/udp -> 0\.0\.0\.0:\d+$/m);
    assert.match(await httpGet('127.0.0.1', hp, '/p.txt'), /all/);
    berth('rm', '-f', `pa-${tag}`);
    const f = berth('run', '--rm', '--dns', '10.9.9.9', '--dns-search', 'corp.test', '--dns-option', 'ndots:3', '--add-host', 'db.test:10.1.1.1', '--add-host', 'gw:host-gateway', '-h', `box${tag}`, 'busybox', 'sh', '-c', 'cat /etc/resolv.conf /etc/hosts /etc/hostname');
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stdout, /^search corp\.test\nnameserver 10\.9\.9\.9\noptions ndots:3$/m);
    assert.match(f.stdout, /^10\.1\.1\.1\tdb\.test$/m);
    assert.match(f.stdout, /^10\.\d+\.0\.1\tgw$/m);
    assert.match(f.stdout, new RegExp(`^10\\.[\\d.]+\\tbox${tag}$`, 'm'));
    assert.match(f.stdout, new RegExp(`^box${tag}$`, 'm'));
    berth('rmi', `exposing-${tag}:1`);
  });

  it('refuses a host port that is taken when the container starts (kept as Created, as Docker keeps it), and leaves nothing else behind', async () => {
    const server: Server = createServer();
    await new Promise<void>((res) => server.listen(0, '0.0.0.0', () => res()));
    const hp = (server.address() as { port: number }).port;
    try {
      // Links of earlier containers may still be going (the kernel tears a network namespace
      // down asynchronously): only a link that was not there before counts.
      const before = linkNames(/^bv/);
      const r = berth('run', '-d', '--name', `busy-${tag}`, '-p', `${hp}:80`, 'busybox', 'sleep', '30');
      assert.equal(r.status, 125);
      assert.match(r.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${hp} failed: port is already allocated`));
      assert.match(r.stderr, /^berth: [^\n]*\n\nRun 'berth run --help' for more information\n$/, 'one message, as docker run frames it');
      // As Docker's: the container stays, Created (the start failed), and -d printed its id first.
      assert.equal(berth('ps', '-a', '--format', '{{.Names}} {{.Status}}').stdout, `busy-${tag} Created\n`);
      assert.equal(r.stdout, berth('inspect', '-f', '{{.Id}}', `busy-${tag}`).stdout);
      assert.equal(berth('rm', `busy-${tag}`).status, 0);
      assert.deepEqual(newLinks(before, /^bv/), [], 'no veth left by the refused container');
      assert.doesNotMatch(nftTable(), new RegExp(`${hp} : `));
      // Its address went back: the default network has no endpoint left.
      assert.deepEqual(JSON.parse(berth('network', 'inspect', 'bridge').stdout)[0].Containers, {});
      // Two berth containers on one host port: the second is refused.
      const a = berth('run', '-d', '--name', `p1-${tag}`, '-p', `${hp + 1}:80`, 'busybox', 'sleep', '30');
      if (a.status === 0) {
        const b = berth('run', '-d', '--name', `p2-${tag}`, '-p', `${hp + 1}:80`, 'busybox', 'sleep', '30');
        assert.equal(b.status, 125);
        assert.match(b.stderr, /port is already allocated/);
        assert.equal(berth('ps', '-q').stdout.split('\n').filter(Boolean).length, 1);
        berth('rm', '-f', `p1-${tag}`, `p2-${tag}`);
      }
    } finally {
      server.close();
    }
  });

  it('isolates networks from each other, and --internal networks from the outside', () => {
    network(`n1-${tag}`);
    network(`n2-${tag}`);
    network(`in-${tag}`, '--internal');
    assert.equal(berth('run', '-d', '--name', `a-${tag}`, '--network', `n1-${tag}`, 'busybox', 'sh', '-c', 'echo a > /a.txt; httpd -f -p 80 -h /').status, 0);
    const aIp = ipOf(`a-${tag}`, `n1-${tag}`);
    const get = `printf 'GET /a.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${aIp} 80 | tail -1`;
    assert.equal(berth('run', '--rm', '--network', `n1-${tag}`, 'busybox', 'sh', '-c', get).stdout.trim(), 'a');
    assert.equal(berth('run', '--rm', '--network', `n2-${tag}`, 'busybox', 'sh', '-c', get).stdout.trim(), '');
    const out = `echo hi | nc -w 2 ${outIp} 9000`;
    assert.match(berth('run', '--rm', '--network', `n2-${tag}`, 'busybox', 'sh', '-c', out).stdout, /outside/);
    const internal = berth('run', '--rm', '--network', `in-${tag}`, 'busybox', 'sh', '-c', `${out}; ip route`);
    assert.doesNotMatch(internal.stdout, /outside/);
    assert.doesNotMatch(internal.stdout, /default/);
    // An internal network's containers still reach each other.
    assert.equal(berth('run', '-d', '--name', `ia-${tag}`, '--network', `in-${tag}`, 'busybox', 'sh', '-c', 'echo a > /a.txt; httpd -f -p 80 -h /').status, 0);
    const iget = `printf 'GET /a.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ia-${tag} 80 | tail -1`;
    assert.equal(berth('run', '--rm', '--network', `in-${tag}`, 'busybox', 'sh', '-c', iget).stdout.trim(), 'a');
    berth('rm', '-f', `a-${tag}`, `ia-${tag}`);
  });

  it('gives concurrent runs on one network distinct addresses, and returns them on rm', async () => {
    network(`cc-${tag}`, '--subnet', `10.251.${third}.0/24`, '--gateway', `10.251.${third}.254`, '--label', 'purpose=test');
    const names = Array.from({ length: 6 }, (_, i) => `c${i}-${tag}`);
    // Each publishes a port too: the socket programs are loaded once, however many start at once.
    const rs = await Promise.all(names.map((n) => berthAsync('run', '-d', '--name', n, '--network', `cc-${tag}`, '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', `echo ${n} > /n.txt; httpd -f -p 80 -h /`)));
    for (const r of rs) assert.equal(r.status, 0, r.stderr);
    for (const n of names) assert.match(await httpGet('127.0.0.1', Number(berth('port', n, '80').stdout.trim().split(':')[1]), '/n.txt'), new RegExp(n));
    if (have('bpftool')) {
      const cg = sh(`awk '$9 == "cgroup2" && $4 == "/" {print $5; exit}' /proc/self/mountinfo`).stdout.trim();
      assert.equal(sh(`bpftool cgroup show ${cg}`).stdout.split('\n').filter((l) => l.includes('berth_connect4')).length, 1);
    }
    const ips = names.map((n) => ipOf(n, `cc-${tag}`));
    assert.equal(new Set(ips).size, names.length, ips.join(' '));
    for (const ip of ips) assert.match(ip, new RegExp(`^10\\.251\\.${third}\\.\\d+$`));
    assert.ok(!ips.includes(`10.251.${third}.254`));
    const net = JSON.parse(berth('network', 'inspect', `cc-${tag}`).stdout)[0];
    assert.equal(Object.keys(net.Containers).length, names.length);
    assert.deepEqual(net.Labels, { purpose: 'test' });
    assert.equal(net.IPAM.Config[0].Gateway, `10.251.${third}.254`);
    assert.equal(berth('rm', '-f', ...names).status, 0);
    assert.deepEqual(JSON.parse(berth('network', 'inspect', `cc-${tag}`).stdout)[0].Containers, {});
    assert.equal(berth('run', '--rm', '--network', `cc-${tag}`, '--ip', `10.251.${third}.9`, 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0').stdout.includes(`10.251.${third}.9/24`), true);
  });

  it('filters network ls as Docker does: driver, type, dangling, name (one key\'s values are alternatives)', () => {
    network(`fl1-${tag}`, '--label', `t=${tag}`);
    network(`fl2-${tag}`);
    assert.equal(berth('run', '-d', '--name', `fl-${tag}`, '--network', `fl2-${tag}`, 'busybox', 'sleep', '60').status, 0);
    const ls = (...f: string[]) => berth('network', 'ls', ...f.flatMap((x) => ['-f', x]), '--format', '{{.Name}}').stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(ls(`name=fl1-${tag}`, `name=fl2-${tag}`), [`fl1-${tag}`, `fl2-${tag}`]);
    assert.deepEqual(ls(`name=fl`, `label=t=${tag}`), [`fl1-${tag}`]);
    assert.ok(ls('type=builtin').includes('host') && ls('type=builtin').includes('bridge') && !ls('type=builtin').includes(`fl1-${tag}`));
    assert.ok(ls('type=custom', `name=fl`).length === 2 && !ls('type=custom').includes('bridge'));
    assert.deepEqual(ls('dangling=true', `name=fl`), [`fl1-${tag}`]);
    assert.deepEqual(ls('driver=null'), ['none']);
    const bad = berth('network', 'ls', '-f', 'type=other');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid filter: 'type'='other'/);
    assert.equal(berth('rm', '-f', `fl-${tag}`).status, 0);
  });

  it('connects and disconnects a running container, with an alias', () => {
    network(`x1-${tag}`);
    network(`x2-${tag}`);
    assert.equal(berth('run', '-d', '--name', `cx-${tag}`, '--network', `x1-${tag}`, 'busybox', 'sh', '-c', 'echo x > /x.txt; httpd -f -p 80 -h /').status, 0);
    const c = berth('network', 'connect', '--alias', `web-${tag}`, `x2-${tag}`, `cx-${tag}`);
    assert.equal(c.status, 0, c.stderr);
    assert.match(berth('exec', `cx-${tag}`, 'ip', '-o', 'link').stdout, /eth1/);
    const get = `printf 'GET /x.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 2 web-${tag} 80 | tail -1`;
    assert.equal(berth('run', '--rm', '--network', `x2-${tag}`, 'busybox', 'sh', '-c', get).stdout.trim(), 'x');
    assert.equal(berth('network', 'disconnect', `x2-${tag}`, `cx-${tag}`).status, 0);
    assert.doesNotMatch(berth('exec', `cx-${tag}`, 'ip', '-o', 'link').stdout, /eth1/);
    assert.equal(berth('run', '--rm', '--network', `x2-${tag}`, 'busybox', 'sh', '-c', get).stdout.trim(), '');
    const rm = berth('network', 'rm', `x1-${tag}`);
    assert.equal(rm.status, 1);
    assert.match(rm.stderr, /has active endpoints/);
    berth('rm', '-f', `cx-${tag}`);
  });

  it('takes a detached container\'s network down when it stops, and back up (same address) when it starts again', () => {
    assert.equal(berth('run', '-d', '--name', `st-${tag}`, '--stop-timeout', '0', '-p', '127.0.0.1::80', 'busybox', 'sleep', '60').status, 0);
    const id = inspect(`st-${tag}`).Id as string;
    const ip = ipOf(`st-${tag}`, 'bridge');
    assert.ok(links().includes(`bv${id.slice(0, 11)}`));
    assert.equal(berth('stop', `st-${tag}`).status, 0);
    // The monitor runs the cleanup when the container has ended: wait for it (bounded).
    waitUntil('the monitor\'s network cleanup', () => !existsSync(join(runroot, 'net', `${id}.json`)));
    assert.ok(!existsSync(join(runroot, 'net', `${id}.json`)));
    assert.ok(!links().includes(`bv${id.slice(0, 11)}`));
    assert.equal(berth('port', `st-${tag}`).stdout, '');
    assert.equal(berth('start', `st-${tag}`).status, 0);
    assert.match(berth('exec', `st-${tag}`, 'ip', '-o', '-4', 'addr', 'show', 'eth0').stdout, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    assert.match(berth('port', `st-${tag}`).stdout, /^80\/tcp -> 127\.0\.0\.1:\d+$/m);
    assert.equal(berth('restart', `st-${tag}`).status, 0);
    assert.equal(berth('exec', `st-${tag}`, 'true').status, 0);
    // A late cleanup of the run before must not take the new run's network away.
    spawnSync('sleep', ['1']); // a window for a late cleanup to show; the check holds for any length
    assert.ok(links().includes(`bv${id.slice(0, 11)}`));
    assert.equal(berth('rm', '-f', `st-${tag}`).status, 0);
    assert.ok(!links().includes(`bv${id.slice(0, 11)}`));
  });

  it('cleans what a container left after its monitor and process were killed: at the next start and by network prune', () => {
    assert.equal(berth('run', '-d', '--name', `k-${tag}`, '-p', '127.0.0.1::80', 'busybox', 'sleep', '60').status, 0);
    const rec = inspect(`k-${tag}`);
    const id = rec.Id as string;
    const firstPort = berth('port', `k-${tag}`, '80').stdout.trim().split(':')[1];
    const monitor = Number(sh(`ps -o ppid= -p ${rec.State.Pid}`).stdout.trim());
    if (monitor > 1) process.kill(monitor, 'SIGKILL');
    process.kill(rec.State.Pid, 'SIGKILL');
    waitUntil('the killed process to end', () => ended(rec.State.Pid));
    assert.ok(links().includes(`bv${id.slice(0, 11)}`), 'the crash left its veth');
    // The next start cleans first and works.
    assert.equal(berth('start', `k-${tag}`).status, 0);
    assert.equal(berth('exec', `k-${tag}`, 'true').status, 0);
    assert.doesNotMatch(nftTable(), new RegExp(`127\\.0\\.0\\.1 \\. ${firstPort} :`), 'the first run\'s port went at the next start');
    const secondPort = berth('port', `k-${tag}`, '80').stdout.trim().split(':')[1];
    assert.match(nftTable(), new RegExp(`127\\.0\\.0\\.1 \\. ${secondPort} :`));
    const pid2 = inspect(`k-${tag}`).State.Pid;
    const mon2 = Number(sh(`ps -o ppid= -p ${pid2}`).stdout.trim());
    if (mon2 > 1) process.kill(mon2, 'SIGKILL');
    process.kill(pid2, 'SIGKILL');
    waitUntil('the second killed process to end', () => ended(pid2));
    assert.equal(berth('network', 'prune', '-f').status, 0);
    assert.ok(!links().includes(`bv${id.slice(0, 11)}`));
    assert.ok(!readFileSync('/proc/mounts', 'utf8').includes(id));
    assert.deepEqual(readdirSync(join(runroot, 'net')), []);
    assert.doesNotMatch(nftTable(), new RegExp(`127\\.0\\.0\\.1 \\. ${secondPort} :`));
    berth('rm', '-f', `k-${tag}`);
  });

  it('rejects bad input with one clear message and Docker\'s exit code (run 125, others 1), leaving nothing half-made', () => {
    network(`ov-${tag}`, '--subnet', `10.250.${third}.0/24`);
    const bridgesBefore = linkNames(/^berth/);
    const netsBefore = berth('network', 'ls', '-q').stdout;
    const cases: [string[], RegExp][] = [
      [['network', 'create', '--subnet', `10.250.${third}.128/25`, `bad1-${tag}`], /Pool overlaps with other one on this address space \(network ov-/],
      [['network', 'create', '--subnet', '10.0.0.0/33', `bad3-${tag}`], /invalid subnet "10\.0\.0\.0\/33"/],
      [['network', 'create', '--subnet', '10.249.0.5/24', `bad4-${tag}`], /bits outside the prefix/],
      [['network', 'create', '--subnet', '10.249.0.0/24', '--gateway', '10.248.0.1', `bad5-${tag}`], /not a host address of subnet/],
      [['network', 'create', `ov-${tag}`], /already exists/],
      [['run', '--rm', '-p', '99999:80', 'busybox', 'true'], /invalid port specification: "99999:80"/],
      [['run', '--rm', '-p', '80/sctp', 'busybox', 'true'], /protocol "sctp"/],
      [['run', '--rm', '-p', 'a:b:c:d', 'busybox', 'true'], /invalid port specification/],
      [['run', '--rm', '--network', `missing-${tag}`, 'busybox', 'true'], new RegExp(`network missing-${tag} not found`)],
      // (With none or host, dockerd discards published ports; another container's network refuses them.)
      [['run', '--rm', '--network', `container:missing-${tag}`, '-p', '80', 'busybox', 'true'], /conflicting options: port publishing and the container type network mode/],
      [['run', '--rm', '--add-host', 'nocolon', 'busybox', 'true'], /--add-host/],
      [['run', '--rm', '--dns', 'not-an-ip', 'busybox', 'true'], /--dns/],
      [['run', '--rm', '--network', `ov-${tag}`, '--ip', '10.1.1.1', 'busybox', 'true'], /does not belong to network/],
      [['run', '--rm', '--mac-address', '02:42:zz:00:00:01', 'busybox', 'true'], /invalid MAC address "02:42:zz:00:00:01" \(--mac-address\)/],
      [['run', '--rm', '--mac-address', '01:00:5e:00:00:01', 'busybox', 'true'], /not a multicast one/],
      [['run', '--rm', '--network', 'none', '--mac-address', '02:42:ac:11:00:09', 'busybox', 'true'], /conflicting options: mac-address/],
      [['run', '--rm', '--link', `missing-${tag}`, 'busybox', 'true'], new RegExp(`could not get container for missing-${tag}`)],
      [['run', '--rm', '--link', 'a:b:c', 'busybox', 'true'], /invalid --link "a:b:c"/],
      [['run', '--rm', '--network', 'host', '--link', `missing-${tag}`, 'busybox', 'true'], /conflicting options: --link and the network mode/],
      [['network', 'connect', `missing-${tag}`, 'nobody'], /No such container|not found/],
      [['network', 'rm', 'bridge'], /pre-defined network/],
    ];
    for (const [args, re] of cases) {
      const r = berth(...args);
      const isRun = args[0] === 'run';
      assert.equal(r.status, isRun ? 125 : 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      // One message: docker run frames it with its help line; other commands print one line.
      if (isRun) assert.match(r.stderr, /^berth: [^\n]*\n\nRun 'berth run --help' for more information\n$/, `${args.join(' ')}: ${r.stderr}`);
      else assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(berth('run', '-d', '--name', `cn-${tag}`, '--network', 'none', 'busybox', 'sleep', '30').status, 0);
    const cm = berth('network', 'connect', `missing-${tag}`, `cn-${tag}`);
    assert.equal(cm.status, 1);
    assert.match(cm.stderr, new RegExp(`network missing-${tag} not found`));
    berth('rm', '-f', `cn-${tag}`);
    assert.equal(berth('ps', '-aq').stdout, '', berth('ps', '-a').stdout);
    assert.equal(berth('network', 'ls', '-q').stdout, netsBefore);
    assert.deepEqual(newLinks(bridgesBefore, /^berth/), [], 'no bridge left by the refused commands');
    assert.deepEqual(JSON.parse(berth('network', 'inspect', `ov-${tag}`).stdout)[0].Containers, {});
  });

  it('says which firewall it drives in info, and removes a network\'s bridge and rules with it', () => {
    const info = berth('info').stdout;
    assert.match(info, /Firewall: nftables/);
    const cg = sh(`awk '$9 == "cgroup2" && $4 == "/" {print $5; exit}' /proc/self/mountinfo`).stdout.trim();
    if (cg) assert.match(info, new RegExp(`Published ports from this host: TCP redirected at connect\\(\\) \\(cgroup programs on ${cg}\\)`));
    const id = network(`gone-${tag}`, '--subnet', `10.249.${third}.0/24`);
    const bridge = `berth${id.slice(0, 10)}`;
    assert.ok(links().includes(`${bridge}:`));
    assert.match(nftTable(), new RegExp(`10\\.249\\.${third}\\.0/24`));
    assert.equal(berth('network', 'rm', `gone-${tag}`).status, 0);
    assert.ok(!links().includes(`${bridge}:`));
    assert.doesNotMatch(nftTable(), new RegExp(`10\\.249\\.${third}\\.0/24`));
    assert.doesNotMatch(nftTable(), new RegExp(bridge));
  });
});

describe('berth networking with the iptables backend (BERTH_FIREWALL=iptables)', { skip: skip || (!have('iptables') || !have('iptables-restore') ? 'needs iptables and iptables-restore' : false) }, () => {
  const root = tmp('berth-ipt-root-');
  const runroot = tmp('berth-ipt-runroot-');
  const tag = randomBytes(3).toString('hex');
  // (the host's own connections through the DNAT rules too, as where no socket program loads)
  const env = { ...process.env, BERTH_FIREWALL: 'iptables', BERTH_DNS_UPSTREAM: '127.0.0.1:9', BERTH_SOCKET_PORTS: '0' };
  const berth = (...args: string[]) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 60_000, env });
  const saved = () => sh('iptables-save 2>/dev/null').stdout.split('\n').filter((l) => l.includes('BERTH')).join('\n');
  before(() => assert.equal(berth('starter').status, 0));
  after(() => {
    for (const id of berth('ps', '-aq', '--no-trunc').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    berth('network', 'rm', `i1-${tag}`, `i2-${tag}`);
    berth('network', 'prune', '-f');
    // berth's chains and the jumps to them, once empty (as a host without nft would keep them).
    const rules = sh('iptables-save 2>/dev/null').stdout.split('\n').filter((l) => /^-A BERTH-/.test(l) && !l.includes('127.0.0.0/8'));
    if (rules.length === 0) {
      sh(
        [
          'iptables -w -t raw -D PREROUTING -j BERTH-RAW',
          'iptables -w -t raw -X BERTH-RAW',
          'iptables -w -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j BERTH-DNAT',
          'iptables -w -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j BERTH-DNAT',
          'iptables -w -t nat -D POSTROUTING -j BERTH-POSTROUTING',
          'iptables -w -t nat -F BERTH-POSTROUTING',
          'iptables -w -t nat -X BERTH-POSTROUTING',
          'iptables -w -t nat -X BERTH-DNAT',
          'iptables -w -t filter -D FORWARD -j BERTH-FORWARD',
          'iptables -w -t filter -X BERTH-FORWARD',
        ].map((c) => `${c} 2>/dev/null`).join('; '),
      );
    }
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('publishes ports, resolves names, isolates networks, and removes its rules with the containers and networks', async () => {
    assert.match(berth('info').stdout, /Firewall: iptables/);
    assert.equal(berth('network', 'create', '--subnet', `10.248.${parseInt(tag.slice(0, 2), 16)}.0/24`, `i1-${tag}`).status, 0);
    assert.equal(berth('network', 'create', `i2-${tag}`).status, 0);
    const hp = await freePort();
    const w = berth('run', '-d', '--name', `iw-${tag}`, '--network', `i1-${tag}`, '-p', `${hp}:8080`, 'busybox', 'sh', '-c', 'echo ipt > /w.txt; httpd -f -p 8080 -h /');
    assert.equal(w.status, 0, w.stderr);
    assert.match(await httpGet('127.0.0.1', hp, '/w.txt'), /ipt/);
    assert.match(saved(), new RegExp(`--dport ${hp} -j DNAT`));
    assert.match(berth('port', `iw-${tag}`).stdout, new RegExp(`8080/tcp -> 0\\.0\\.0\\.0:${hp}`));
    const dup = berth('run', '-d', '--name', `iw2-${tag}`, '--network', `i1-${tag}`, '-p', `${hp}:8080`, 'busybox', 'sleep', '30');
    assert.equal(dup.status, 125);
    const get = (h: string) => `printf 'GET /w.txt HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${h} 8080 | tail -1`;
    assert.equal(berth('run', '--rm', '--network', `i1-${tag}`, 'busybox', 'sh', '-c', get(`iw-${tag}`)).stdout.trim(), 'ipt');
    const ip = JSON.parse(berth('inspect', `iw-${tag}`).stdout)[0].NetworkSettings.Networks[`i1-${tag}`].IPAddress;
    assert.equal(berth('run', '--rm', '--network', `i2-${tag}`, 'busybox', 'sh', '-c', get(ip)).stdout.trim(), '');
    // (The refused second one is kept, Created, as Docker keeps it.)
    assert.equal(berth('rm', '-f', `iw-${tag}`, `iw2-${tag}`).status, 0);
    assert.doesNotMatch(saved(), new RegExp(`--dport ${hp} `));
    assert.equal(berth('network', 'rm', `i1-${tag}`, `i2-${tag}`).status, 0);
    assert.doesNotMatch(saved(), new RegExp(`10\\.248\\.${parseInt(tag.slice(0, 2), 16)}\\.0/24`));
    assert.doesNotMatch(saved(), /-i berth\S+ -o berth\S+ -j ACCEPT/);
  });
});

describe('berth networking without a firewall (BERTH_FIREWALL=none): published ports through the userland proxy', { skip }, () => {
  const root = tmp('berth-nofw-root-');
  const runroot = tmp('berth-nofw-runroot-');
  const tag = randomBytes(3).toString('hex');
  const env = { ...process.env, BERTH_FIREWALL: 'none', BERTH_DNS_UPSTREAM: '127.0.0.1:9' };
  const berth = (...args: string[]) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 60_000, env });
  const proxies = () => sh('ps -eo args').stdout.split('\n').filter((l) => l.includes('berth-proxy') && l.includes(runroot));
  before(() => assert.equal(berth('starter').status, 0));
  after(() => {
    for (const id of berth('ps', '-aq', '--no-trunc').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    berth('network', 'prune', '-f');
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('copies connections to the container, refuses a taken port, and stops the proxy with the container', async () => {
    assert.match(berth('info').stdout, /Firewall: none/);
    const hp = await freePort();
    const r = berth('run', '-d', '--name', `px-${tag}`, '-p', `127.0.0.1:${hp}:8080`, 'busybox', 'sh', '-c', 'echo via-proxy > /w.txt; httpd -f -p 8080 -h /');
    assert.equal(r.status, 0, r.stderr);
    assert.match(await httpGet('127.0.0.1', hp, '/w.txt'), /via-proxy/);
    assert.equal(proxies().length, 1);
    assert.equal(berth('port', `px-${tag}`).stdout, `8080/tcp -> 127.0.0.1:${hp}\n`);
    const dup = berth('run', '--rm', '-p', `127.0.0.1:${hp}:80`, 'busybox', 'true');
    assert.equal(dup.status, 125);
    assert.match(dup.stderr, /port is already allocated/);
    assert.equal(berth('rm', '-f', `px-${tag}`).status, 0);
    assert.deepEqual(proxies(), []);
    assert.equal(berth('ps', '-aq').stdout, '');
  });
});
