/**
 * runtime/seccomp: OCI `linux.seccomp` → classic BPF for seccomp(SECCOMP_SET_MODE_FILTER).
 * The C helper loads `program` as-is with `flags`; it never sees the OCI JSON.
 */
export {
  compileSeccomp,
  disassemble,
  nativeSeccompArch,
  syscallNumber,
  BPF_MAXINSNS,
  SECCOMP_ARCHES,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_LOG,
  SECCOMP_RET_ALLOW,
  AUDIT_ARCH_X86_64,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_AARCH64,
} from './compile.js';
export type { CompiledSeccomp, CompileSeccompOptions } from './compile.js';
export { SYSCALL_TABLES } from './syscalls.js';
export type { SyscallTable, SyscallTableArch } from './syscalls.js';
