/** Linux capability names and numbers (linux/capability.h). */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

const byName = new Map(CAPABILITIES.map((n, i) => [n, i]));

/** Number of a capability name (with or without the CAP_ prefix, any case), or undefined. */
export function capNumber(name: string): number | undefined {
  const n = name.toUpperCase();
  return byName.get(n.startsWith('CAP_') ? n : 'CAP_' + n);
}

/** Bit mask of a list of capability names; throws with `path` naming the offending entry. */
export function capMask(names: readonly string[] | undefined, path: string, onError: (msg: string) => Error): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, i) => {
    const n = typeof name === 'string' ? capNumber(name) : undefined;
    if (n === undefined) throw onError(`${path}[${i}]: unknown capability ${JSON.stringify(name)}`);
    mask |= 1n << BigInt(n);
  });
  return mask;
}

/** Names of the capabilities set in a mask (as in /proc/PID/status CapEff). */
export function capNames(mask: bigint): string[] {
  const out: string[] = [];
  for (let i = 0; i < 64; i++) if (mask & (1n << BigInt(i))) out.push(CAPABILITIES[i] ?? `CAP_${i}`);
  return out;
}
