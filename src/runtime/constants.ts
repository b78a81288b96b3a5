/** Kernel constants the plan uses (linux/mount.h, sched.h, resource.h). */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

export const CLONE_NEW: Record<string, number> = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
};

/** /proc/PID/ns/ file name of each OCI namespace type. */
export const NS_FILE: Record<string, string> = {
  mount: 'mnt',
  cgroup: 'cgroup',
  uts: 'uts',
  ipc: 'ipc',
  user: 'user',
  pid: 'pid',
  network: 'net',
  time: 'time',
};

export const RLIMIT: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export const S_IF = { c: 0o020000, b: 0o060000, p: 0o010000, u: 0o020000 } as const;

/** Mount option words → flags to set or clear; `rec` marks recursive bind/propagation. */
export const MOUNT_FLAGS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  suid: { clear: MS.NOSUID },
  nosuid: { set: MS.NOSUID },
  dev: { clear: MS.NODEV },
  nodev: { set: MS.NODEV },
  exec: { clear: MS.NOEXEC },
  noexec: { set: MS.NOEXEC },
  sync: { set: MS.SYNCHRONOUS },
  async: { clear: MS.SYNCHRONOUS },
  dirsync: { set: MS.DIRSYNC },
  remount: { set: MS.REMOUNT },
  mand: { set: MS.MANDLOCK },
  nomand: { clear: MS.MANDLOCK },
  atime: { clear: MS.NOATIME },
  noatime: { set: MS.NOATIME },
  diratime: { clear: MS.NODIRATIME },
  nodiratime: { set: MS.NODIRATIME },
  relatime: { set: MS.RELATIME },
  norelatime: { clear: MS.RELATIME },
  strictatime: { set: MS.STRICTATIME },
  nostrictatime: { clear: MS.STRICTATIME },
  lazytime: { set: MS.LAZYTIME },
  nolazytime: { clear: MS.LAZYTIME },
  nosymfollow: { set: MS.NOSYMFOLLOW },
  symfollow: { clear: MS.NOSYMFOLLOW },
  bind: { set: MS.BIND },
  rbind: { set: MS.BIND | MS.REC },
};

export const PROPAGATION_FLAGS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};
