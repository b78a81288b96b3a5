/**
 * build: Dockerfile → instructions → stages of content-keyed steps → a cached solver. RUN steps go
 * through the Executor the engine provides; images and layers through the BuildBackend.
 */
export { Builder, RunFailedError } from './builder.js';
export type { BaseImage, BuildBackend, BuildOptions, BuildResult, Executor, ProgressEvent, RunMount, RunRequest } from './builder.js';
export { BuildCache } from './cache.js';
export { parseDockerfile, INSTRUCTIONS } from './dockerfile.js';
export type { Dockerfile, Instruction, Heredoc } from './dockerfile.js';
export { processWord, processWords, expandVariables } from './shell-lex.js';
export { BuildContext, FileHashCache, matchComponent } from './context.js';
