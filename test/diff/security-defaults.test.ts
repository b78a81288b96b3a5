/**
 * berth's security defaults held against Docker's on this host:
 * - the seccomp profile: for every x86_64 syscall (and the argument values either profile tests),
 *   what Docker's default profile (the one this docker.io was built with) decides against what
 *   berth's decides, for the default capability set and with capabilities added. The tables of
 *   differences are expected empty;
 * - a default container of a dockerd the test starts, and one of berth: CapEff, CapBnd, CapPrm,
 *   Seccomp and NoNewPrivs in /proc/self/status, the masked /proc and /sys paths and the read-only
 *   ones, read inside each.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultSeccomp } from '../../src/engine/seccomp-profile.js';
import { DOCKER_DEFAULT_CAPS } from '../../src/engine/index.js';
import { SYSCALL_TABLES } from '../../src/runtime/seccomp/index.js';
import type { Seccomp, SeccompArg } from '../../src/oci/runtime-spec.js';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';
import { dockerdSkip, startDockerd, type Dockerd } from './dockerd.js';

const profileFile = join(berthPackageRoot(), '.setup', 'docker-default-seccomp.json');

interface DockerRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  includes?: { caps?: string[]; arches?: string[]; minKernel?: string };
  excludes?: { caps?: string[]; arches?: string[] };
}

/** Docker's profile as dockerd hands it to runc for `caps` on amd64 (includes/excludes resolved). */
function resolveDocker(profile: { defaultAction: string; syscalls: DockerRule[] }, caps: string[]): Seccomp {
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').split('.').map(Number);
  const atLeast = (v: string) => {
    const [a, b] = v.split('.').map(Number) as [number, number];
    return kernel[0]! > a || (kernel[0] === a && kernel[1]! >= b);
  };
  const arch = 'amd64';
  const rules = profile.syscalls.filter((r) => {
    const inc = r.includes ?? {};
    const exc = r.excludes ?? {};
    if (inc.arches?.length && !inc.arches.includes(arch)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => caps.includes(c))) return false;
    if (inc.minKernel && !atLeast(inc.minKernel)) return false;
    if (exc.arches?.length && exc.arches.includes(arch)) return false;
    if (exc.caps?.length && exc.caps.some((c) => caps.includes(c))) return false;
    return true;
  });
  return { defaultAction: profile.defaultAction as Seccomp['defaultAction'], syscalls: rules.map((r) => ({ names: r.names, action: r.action as Seccomp['defaultAction'], ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}), ...(r.args?.length ? { args: r.args } : {}) })) };
}

function holds(a: SeccompArg, x: bigint): boolean {
  const v = BigInt(a.value);
  const v2 = BigInt(a.valueTwo ?? 0);
  switch (a.op) {
    case 'SCMP_CMP_EQ':
      return x === v;
    case 'SCMP_CMP_NE':
      return x !== v;
    case 'SCMP_CMP_LT':
      return x < v;
    case 'SCMP_CMP_LE':
      return x <= v;
    case 'SCMP_CMP_GT':
      return x > v;
    case 'SCMP_CMP_GE':
      return x >= v;
    case 'SCMP_CMP_MASKED_EQ':
      return (x & v) === v2;
  }
  throw new Error(`operator ${a.op}`);
}

/** What a profile does with a call: ALLOW or the refusal (first rule whose conditions hold). */
function decide(p: Seccomp, name: string, args: bigint[]): string {
  for (const r of p.syscalls ?? []) {
    if (!r.names.includes(name)) continue;
    if ((r.args ?? []).every((a) => holds(a, args[a.index] ?? 0n))) return r.action === 'SCMP_ACT_ALLOW' ? 'ALLOW' : `${r.action}(${r.errnoRet ?? 1})`;
  }
  return p.defaultAction === 'SCMP_ACT_ALLOW' ? 'ALLOW' : `${p.defaultAction}(${p.defaultErrnoRet ?? 1})`;
}

/** The argument vectors to try for a call: all zero, and each value a rule of either profile names, alone at its index. */
function probes(name: string, profiles: Seccomp[]): bigint[][] {
  const out: bigint[][] = [[0n, 0n, 0n, 0n, 0n, 0n]];
  for (const p of profiles) {
    for (const r of p.syscalls ?? []) {
      if (!r.names.includes(name)) continue;
      for (const a of r.args ?? []) {
        const vals = new Set<bigint>([BigInt(a.value), BigInt(a.value) + 1n, BigInt(a.valueTwo ?? 0)]);
        if (BigInt(a.value) > 0n) vals.add(BigInt(a.value) - 1n);
        // each bit of a mask alone
        if (a.op === 'SCMP_CMP_MASKED_EQ') for (let b = 0n; b < 64n; b++) if ((BigInt(a.value) >> b) & 1n) vals.add(1n << b);
        for (const v of vals) {
          const args = [0n, 0n, 0n, 0n, 0n, 0n];
          args[a.index] = v & 0xffffffffffffffffn;
          out.push(args);
        }
      }
    }
  }
  return out;
}

/** Every (call, arguments) where the two profiles differ, as lines "name(args): docker=… berth=…". */
function differences(docker: Seccomp, berth: Seccomp): { berthAllows: string[]; berthRefuses: string[] } {
  const berthAllows: string[] = [];
  const berthRefuses: string[] = [];
  for (const name of Object.keys(SYSCALL_TABLES.SCMP_ARCH_X86_64).sort()) {
    for (const args of probes(name, [docker, berth])) {
      const d = decide(docker, name, args);
      const b = decide(berth, name, args);
      if ((d === 'ALLOW') === (b === 'ALLOW')) continue;
      const line = `${name}(${args.map((a) => '0x' + a.toString(16)).join(',')}): docker ${d}, berth ${b}`;
      (b === 'ALLOW' ? berthAllows : berthRefuses).push(line);
    }
  }
  return { berthAllows: [...new Set(berthAllows)], berthRefuses: [...new Set(berthRefuses)] };
}

describe("berth's default seccomp profile against Docker's", { skip: existsSync(profileFile) ? false : `no ${profileFile} (scripts/setup.sh extracts it from golang-github-docker-docker-dev)` }, () => {
  const docker = () => JSON.parse(readFileSync(profileFile, 'utf8')) as { defaultAction: string; syscalls: DockerRule[] };
  const capSets: [string, string[]][] = [
    ['the default capabilities', [...DOCKER_DEFAULT_CAPS]],
    ['with CAP_SYS_ADMIN and CAP_SYS_PTRACE added', [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']],
    ['with every capability Docker conditions a call on', [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN', 'CAP_DAC_READ_SEARCH', 'CAP_SYS_BOOT', 'CAP_SYS_MODULE', 'CAP_SYS_PACCT', 'CAP_SYS_PTRACE', 'CAP_SYS_RAWIO', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_SYS_NICE', 'CAP_SYSLOG']],
    ['with CAP_SYS_CHROOT dropped', DOCKER_DEFAULT_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT')],
  ];
  for (const [what, caps] of capSets) {
    it(`refuses every call Docker's refuses, and no other, ${what}`, () => {
      const diff = differences(resolveDocker(docker(), caps), defaultSeccomp(caps));
      assert.deepEqual(diff.berthAllows, [], 'calls Docker refuses and berth allows');
      assert.deepEqual(diff.berthRefuses, [], 'calls Docker allows and berth refuses');
    });
  }

  it('the comparison sees a difference where there is one', () => {
    const loose = defaultSeccomp(DOCKER_DEFAULT_CAPS);
    loose.syscalls!.push({ names: ['kexec_load', 'clone'], action: 'SCMP_ACT_ALLOW' });
    const diff = differences(resolveDocker(docker(), [...DOCKER_DEFAULT_CAPS]), loose);
    assert.ok(diff.berthAllows.some((l) => l.startsWith('kexec_load(')), diff.berthAllows.join('\n'));
    // clone with CLONE_NEWUSER (0x10000000) is refused by Docker's
    assert.ok(diff.berthAllows.some((l) => l.startsWith('clone(0x10000000,')), diff.berthAllows.join('\n'));
  });
});

const PROBE = [
  'grep -E "^(CapEff|CapBnd|CapPrm|CapInh|CapAmb|Seccomp|NoNewPrivs):" /proc/self/status',
  // masked: empty (a bind of /dev/null or an empty read-only tmpfs) or absent
  'for p in /proc/asound /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware; do if [ -d $p ]; then echo "$p dir $(ls -A $p | wc -l)"; elif [ -e $p ]; then echo "$p file $(head -c 64 $p 2>/dev/null | wc -c)"; else echo "$p absent"; fi; done',
  // read-only
  'for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger; do if [ -e $p ]; then grep -q " $p .*\\bro\\b" /proc/self/mountinfo && echo "$p ro" || echo "$p rw"; else echo "$p absent"; fi; done',
  'echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo "sysctl write ok" || echo "sysctl write refused"',
].join('; ');

describe('a default container of dockerd and one of berth, side by side', { skip: !isRoot ? 'needs root' : dockerdSkip() ?? false }, () => {
  const dir = tmp('berth-secdiff-');
  const berthBin = join(berthPackageRoot(), 'bin', 'berth');
  const berth = (...args: string[]) => spawnSync(berthBin, ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), ...args], { encoding: 'utf8', timeout: 120_000 });
  let dockerd: Dockerd | undefined;

  before(async () => {
    assert.equal(berth('starter').status, 0);
    const archive = join(dir, 'busybox.tar');
    assert.equal(berth('save', '-o', archive, 'busybox').status, 0);
    dockerd = await startDockerd(join(dir, 'docker'));
    const l = dockerd.docker(['load', '-i', archive]);
    assert.equal(l.status, 0, l.stderr);
  });
  after(() => {
    dockerd?.stop();
    berth('network', 'prune', '-f');
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('has the same capabilities, seccomp mode, no_new_privs and masked and read-only paths', () => {
    const d = dockerd!.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', PROBE]);
    assert.equal(d.status, 0, d.stderr);
    const b = berth('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', PROBE);
    assert.equal(b.status, 0, b.stderr);
    assert.match(d.stdout, /^Seccomp:\s+2$/m, "dockerd's container has no seccomp filter: the comparison would mean nothing");
    assert.equal(b.stdout.replace(/\t/g, ' '), d.stdout.replace(/\t/g, ' '));
  });

  it('with --cap-add and --cap-drop, and with --security-opt no-new-privileges, as Docker does', () => {
    for (const flags of [['--cap-add', 'SYS_ADMIN', '--cap-drop', 'NET_RAW'], ['--security-opt', 'no-new-privileges'], ['--cap-drop', 'ALL', '--cap-add', 'CHOWN']]) {
      const d = dockerd!.docker(['run', '--rm', '--network', 'none', ...flags, 'busybox', 'sh', '-c', PROBE.split('; ')[0]!]);
      assert.equal(d.status, 0, d.stderr);
      const b = berth('run', '--rm', '--network', 'none', ...flags, 'busybox', 'sh', '-c', PROBE.split('; ')[0]!);
      assert.equal(b.status, 0, b.stderr);
      assert.equal(b.stdout, d.stdout, flags.join(' '));
    }
  });
});
