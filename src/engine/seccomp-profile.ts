/**
 * berth's default seccomp profile: an allow-list. A container may make the calls ordinary programs
 * make (files, memory, processes, signals, time, sockets, System V and POSIX IPC, events); every
 * other call fails with EPERM, so a call added to the kernel later is refused until it is known
 * to be harmless. Calls that only a capability makes harmless (mounts and namespaces, modules,
 * reboot, setting clocks, tracing other processes, raw I/O, ...) are allowed when the container
 * has that capability (--cap-add, --privileged has no profile at all). Held against Docker's
 * default profile by test/diff/security-defaults.test.ts: nothing Docker refuses is allowed here.
 */
import type { Seccomp, SeccompSyscall } from '../oci/runtime-spec.js';

/** The calls of every program, grouped by what they touch. Names unknown on an architecture are skipped there. */
const ALLOWED: Record<string, readonly string[]> = {
  files: [
    'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat', 'faccessat', 'faccessat2',
    'fadvise64', 'fadvise64_64', 'fallocate', 'fchdir', 'fchmod', 'fchmodat', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64',
    'fdatasync', 'flock', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate', 'ftruncate64', 'futimesat',
    'getcwd', 'getdents', 'getdents64', 'lchown', 'lchown32', 'link', 'linkat', '_llseek', 'lseek', 'lstat', 'lstat64', 'mkdir',
    'mkdirat', 'mknod', 'mknodat', 'newfstatat', 'open', 'openat', 'openat2', 'pread64', 'preadv', 'preadv2', 'pwrite64', 'pwritev',
    'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'rename', 'renameat', 'renameat2', 'rmdir', 'sendfile',
    'sendfile64', 'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range',
    'syncfs', 'tee', 'truncate', 'truncate64', 'umask', 'unlink', 'unlinkat', 'utime', 'utimensat', 'utimensat_time64', 'utimes',
    'vmsplice', 'write', 'writev', 'dup', 'dup2', 'dup3', 'ioctl', 'pipe', 'pipe2',
  ],
  xattrs: [
    'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'listxattr', 'llistxattr', 'lremovexattr',
    'lsetxattr', 'removexattr', 'setxattr',
  ],
  events: [
    'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'epoll_wait_old',
    'eventfd', 'eventfd2', 'fanotify_mark', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'poll', 'ppoll',
    'ppoll_time64', 'pselect6', 'pselect6_time64', 'select', '_newselect', 'signalfd', 'signalfd4', 'timerfd_create',
    'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64',
  ],
  asyncIo: [
    'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'io_setup', 'io_submit', 'io_uring_enter',
    'io_uring_register', 'io_uring_setup', 'ioprio_get', 'ioprio_set',
  ],
  memory: [
    'brk', 'madvise', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect',
    'mremap', 'msync', 'munlock', 'munlockall', 'munmap', 'remap_file_pages',
  ],
  processes: [
    'execve', 'execveat', 'exit', 'exit_group', 'fork', 'vfork', 'wait4', 'waitid', 'waitpid', 'getpid', 'getppid', 'gettid', 'getpgid',
    'getpgrp', 'getsid', 'setpgid', 'setsid', 'getpriority', 'setpriority', 'getrlimit', 'setrlimit', 'ugetrlimit', 'prlimit64',
    'getrusage', 'prctl', 'capget', 'capset', 'get_robust_list', 'set_robust_list', 'set_tid_address', 'get_thread_area',
    'set_thread_area', 'rseq', 'restart_syscall', 'seccomp', 'futex', 'futex_time64', 'futex_waitv', 'pidfd_open', 'pidfd_send_signal',
    'process_mrelease', 'getcpu', 'uname', 'sysinfo', 'getrandom', 'landlock_add_rule', 'landlock_create_ruleset',
    'landlock_restrict_self',
  ],
  identity: [
    'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32', 'getgroups', 'getgroups32', 'getresuid',
    'getresuid32', 'getresgid', 'getresgid32', 'setuid', 'setuid32', 'setgid', 'setgid32', 'setreuid', 'setreuid32', 'setregid',
    'setregid32', 'setresuid', 'setresuid32', 'setresgid', 'setresgid32', 'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32', 'setgroups',
    'setgroups32',
  ],
  scheduling: [
    'sched_getaffinity', 'sched_setaffinity', 'sched_getattr', 'sched_setattr', 'sched_getparam', 'sched_setparam',
    'sched_get_priority_max', 'sched_get_priority_min', 'sched_getscheduler', 'sched_setscheduler', 'sched_rr_get_interval',
    'sched_rr_get_interval_time64', 'sched_yield',
  ],
  signals: [
    'kill', 'tkill', 'tgkill', 'pause', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn',
    'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sigaltstack', 'sigprocmask', 'sigreturn',
  ],
  // Reading clocks; setting them is the kernel's CAP_SYS_TIME check (adjtimex with no modes only reads).
  time: [
    'adjtimex', 'alarm', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64', 'clock_gettime', 'clock_gettime64',
    'clock_nanosleep', 'clock_nanosleep_time64', 'getitimer', 'setitimer', 'gettimeofday', 'nanosleep', 'time', 'times', 'timer_create',
    'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64',
  ],
  sockets: [
    'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'setsockopt', 'listen', 'recv', 'recvfrom',
    'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg', 'sendmsg', 'sendto', 'shutdown', 'socket', 'socketcall', 'socketpair',
  ],
  ipc: [
    'ipc', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'shmat', 'shmctl',
    'shmdt', 'shmget', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend',
    'mq_timedsend_time64', 'mq_unlink',
  ],
};

/** Calls that a capability makes harmless: allowed when the container has it. */
const WITH_CAPABILITY: Record<string, readonly string[]> = {
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'mount', 'mount_setattr',
    'move_mount', 'name_to_handle_at', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname',
    'setns', 'syslog', 'umount', 'umount2', 'unshare',
  ],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy'],
  CAP_SYSLOG: ['syslog'],
};

/** clone's flags that make a namespace: refused without CAP_SYS_ADMIN. */
const CLONE_NEW_FLAGS = 0x7e020000; // NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
/** personality(2) values a program asks for: Linux, 32-bit, uname26 (alone or with 32-bit), and the query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];
const ENOSYS = 38;

export function defaultSeccomp(capabilities: readonly string[]): Seccomp {
  const has = (c: string) => capabilities.includes(c);
  const rules: SeccompSyscall[] = [{ names: [...new Set(Object.values(ALLOWED).flat())].sort(), action: 'SCMP_ACT_ALLOW' }];
  // ptrace of one's own children (strace, gdb inside the container): the kernel's ptrace access
  // checks hold since 4.8, where seccomp is checked again after the tracer's changes.
  rules.push({ names: ['ptrace'], action: 'SCMP_ACT_ALLOW' });
  rules.push(...PERSONALITIES.map((v): SeccompSyscall => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: v, op: 'SCMP_CMP_EQ' }] })));
  rules.push({ names: ['arch_prctl', 'modify_ldt'], action: 'SCMP_ACT_ALLOW' });
  for (const [cap, names] of Object.entries(WITH_CAPABILITY)) if (has(cap)) rules.push({ names: [...names], action: 'SCMP_ACT_ALLOW' });
  if (!has('CAP_SYS_ADMIN')) {
    // A thread or process, but no new namespace; clone3's flags are behind a pointer, so it says
    // ENOSYS and libc falls back to clone.
    rules.push({ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NEW_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] });
    rules.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: process.arch === 'arm64' ? ['SCMP_ARCH_AARCH64'] : ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: rules,
  };
}
