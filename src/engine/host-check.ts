/**
 * What this host lacks of what berth uses, and what follows from it: one line each, for `info`
 * (and the API's /info). A command that needs what is missing fails with a line naming the Debian
 * package (sys/exec.ts's TOOL_PACKAGES, the starter's and the helper's own errors).
 */
import { existsSync, readFileSync } from 'node:fs';
import { detectCgroups, findStaticBusybox } from '../runtime/index.js';
import { haveTool } from '../sys/exec.js';
import { helperPath } from '../sys/paths.js';

export function hostLacks(): string[] {
  const out: string[] = [];
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  if (!existsSync(helperPath())) out.push(`no berth-helper at ${helperPath()}: no container can run (build it: npm run build, with gcc, make and libc6-dev)`);
  if (!/\toverlay$/m.test(read('/proc/filesystems'))) out.push('no overlayfs: images and containers use the vfs driver (a full copy per layer)');
  if (!haveTool('ip')) out.push('no ip command: networks unavailable; containers run with --network none or host (install iproute2)');
  if (!haveTool('nft') && !(haveTool('iptables') && haveTool('iptables-restore'))) out.push('no nft and no iptables: nothing masqueraded or isolated; published ports go through a userland proxy (install nftables)');
  const userns = read('/proc/sys/user/max_user_namespaces').trim();
  if (userns === '0' || !existsSync('/proc/self/ns/user')) out.push('no user namespaces: --userns=remap unavailable');
  try {
    findStaticBusybox();
  } catch {
    out.push('no static busybox: berth starter unavailable (install busybox-static)');
  }
  try {
    const l = detectCgroups();
    if (l.mode === 'v2' && !read(`${l.unified}/cgroup.controllers`).includes('memory')) out.push('cgroup v2 without the memory controller delegated here: memory limits unavailable');
  } catch {
    out.push('no cgroup hierarchy: resource limits unavailable');
  }
  return out;
}

/** The cgroup layout in one line: v1, hybrid or v2, and how device rules are enforced. */
export function cgroupSummary(): string {
  try {
    const l = detectCgroups();
    return `${l.mode} (device rules: ${l.mode !== 'v2' && l.v1['devices'] ? 'the v1 devices controller' : 'an eBPF device program per container'})`;
  } catch {
    return 'none';
  }
}
