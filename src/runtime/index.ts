/** berth's OCI runtime: public surface. */
export { Runtime, deviceRules } from './runtime.js';
export type { CreateOptions, DetachedOptions, RunOptions, ExecOptions, ExitStatus, ContainerInfo } from './runtime.js';
export { DEFAULT_RUNTIME_ROOT, StateStore } from './state.js';
export { defaultSpec, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './default-spec.js';
export { makeBusyboxRootfs, findStaticBusybox } from './starter.js';
export { compileCreatePlan, compileExecPlan, parseMountOptions } from './plan.js';
export type { RootfsMount } from './plan.js';
export { capMask, capNames, capNumber, CAPABILITIES } from './caps.js';
export { detectCgroups } from './cgroups/index.js';
export type { CgroupLayout } from './cgroups/index.js';
