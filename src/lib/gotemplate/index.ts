/**
 * Go's text/template (lexer → parse tree → evaluator) with Go's fmt printing, its builtins and the
 * docker CLI's functions. Domain-free: the caller decides what its data looks like to Go (values.ts).
 */
import { execute, TemplateExecError, type ExecOptions } from './exec.js';
import { BUILTINS, DOCKER_FUNCS, DOCKER_HEADER_FUNCS, toJSON, type GoFunc } from './funcs.js';
import { parse, TemplateParseError, type Tree } from './parser.js';

export { TemplateExecError, TemplateParseError, toJSON };
export { GO_JSON, goStringMap, goStringSlice, goStruct, formatV } from './values.js';
export { sprintf } from './fmt.js';
export type { GoFunc };

export interface Template {
  readonly name: string;
  readonly tree: Tree;
  /** Runs the template over `data`; throws TemplateExecError. `header` uses the docker CLI's header functions. */
  execute(data: unknown, opts?: ExecOptions & { header?: boolean }): string;
}

const FUNCS: Record<string, GoFunc> = { ...BUILTINS, ...DOCKER_FUNCS };
const HEADER_FUNCS: Record<string, GoFunc> = { ...BUILTINS, ...DOCKER_HEADER_FUNCS };

/** Parses a template as the docker CLI does (`template.New(name).Funcs(...).Parse(text)`); throws TemplateParseError. */
export function parseTemplate(text: string, name = ''): Template {
  const tree = parse(name, text, (f) => Object.hasOwn(FUNCS, f));
  return {
    name,
    tree,
    execute: (data, opts = {}) => execute(tree, data, opts.header ? HEADER_FUNCS : FUNCS, opts),
  };
}
