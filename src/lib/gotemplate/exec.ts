/** Go's text/template execution over the value model of values.ts. */
import { FuncError, type GoFunc, type Param } from './funcs.js';
import type { ChainNode, CommandNode, FieldNode, IdentifierNode, Node, NumberNode, PipeNode, VariableNode } from './nodes.js';
import { nodeString } from './nodes.js';
import { bytePos } from './lexer.js';
import type { Tree } from './parser.js';
import { GoFloat, formatV, kindOf, truth, typeName } from './values.js';

/** A failure while executing: Go's `template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE`. */
export class TemplateExecError extends Error {
  override name = 'TemplateExecError';
  /** What the template had written before it failed (Go writes as it goes). */
  partial = '';
}

export interface ExecOptions {
  /** Go's missingkey=error: a missing map key is an error, not <no value>. */
  missingKeyError?: boolean;
}

/** No value was piped into the command (Go's missingVal). */
const MISSING = Symbol('missing');
type Final = unknown | typeof MISSING;

class Break {}
/** How deep {{template}} may call itself (Go allows 100000; a JavaScript stack holds fewer). */
const MAX_DEPTH = 1000;
class Continue {}

export function execute(tree: Tree, data: unknown, funcs: Record<string, GoFunc>, opts: ExecOptions = {}): string {
  let out = '';
  let at: Node = tree.root;
  let vars: { name: string; value: unknown }[] = [{ name: '$', value: data }];
  /** The template running: Go's `executing "NAME"`. */
  let running = tree.name;
  let depth = 0;

  const errorf = (msg: string): never => {
    const text = tree.text.slice(0, at.pos);
    const nl = text.lastIndexOf('\n');
    const col = nl < 0 ? bytePos(tree.text, at.pos) : bytePos(text, at.pos) - bytePos(text, nl + 1);
    const line = 1 + (text.match(/\n/g)?.length ?? 0);
    throw new TemplateExecError(`template: ${tree.name}:${line}:${col}: executing ${JSON.stringify(running)} at <${nodeString(at)}>: ${msg}`);
  };

  const varValue = (name: string): unknown => {
    for (let i = vars.length - 1; i >= 0; i--) if (vars[i]!.name === name) return vars[i]!.value;
    return errorf(`undefined variable: ${name}`);
  };
  const setVar = (name: string, value: unknown) => {
    for (let i = vars.length - 1; i >= 0; i--) {
      if (vars[i]!.name === name) {
        vars[i]!.value = value;
        return;
      }
    }
    errorf(`undefined variable: ${name}`);
  };

  function walk(dot: unknown, n: Node): void {
    at = n;
    switch (n.type) {
      case 'list':
        for (const c of n.nodes) walk(dot, c);
        return;
      case 'text':
        out += n.text;
        return;
      case 'action': {
        const v = evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) printValue(n, v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = vars.length;
        const v = evalPipeline(dot, n.pipe);
        if (kindOf(v) === 'func') errorf(`if/with can't use ${formatV(v)}`);
        if (truth(v)) walk(n.type === 'with' ? v : dot, n.list);
        else if (n.elseList) walk(dot, n.elseList);
        vars.length = mark;
        return;
      }
      case 'range':
        return walkRange(dot, n);
      case 'template': {
        const body = tree.defs.get(n.name);
        if (!body) return errorf(`template ${JSON.stringify(n.name)} not defined`);
        if (depth >= MAX_DEPTH) return errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
        const value = n.pipe ? evalPipeline(dot, n.pipe) : undefined;
        const saved = { vars, running };
        vars = [{ name: '$', value }];
        running = n.name;
        depth++;
        try {
          walk(value, body);
        } finally {
          ({ vars, running } = saved);
          depth--;
        }
        return;
      }
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
      default:
        return errorf(`unknown node: ${nodeString(n)}`);
    }
  }

  function walkRange(dot: unknown, r: Extract<Node, { type: 'range' }>): void {
    at = r;
    const outer = vars.length;
    const val = evalPipeline(dot, r.pipe);
    const mark = vars.length;
    const one = (index: unknown, elem: unknown): boolean => {
      if (r.pipe.decl.length > 0) {
        if (r.pipe.isAssign) {
          if (r.pipe.decl.length > 1) {
            setVar(r.pipe.decl[0]!.ident[0]!, index);
            setVar(r.pipe.decl[1]!.ident[0]!, elem);
          } else setVar(r.pipe.decl[0]!.ident[0]!, elem);
        } else {
          vars[mark - 1]!.value = elem;
          if (r.pipe.decl.length > 1) vars[mark - 2]!.value = index;
        }
      }
      try {
        walk(elem, r.list);
      } catch (e) {
        if (e instanceof Break) return false;
        if (!(e instanceof Continue)) throw e;
      } finally {
        vars.length = mark;
      }
      return true;
    };
    let any = false;
    switch (kindOf(val)) {
      case 'slice':
        for (const [i, e] of (val as unknown[]).entries()) {
          any = true;
          if (!one(i, e)) break;
        }
        break;
      case 'map':
        for (const [k, e] of Object.entries(val as object).filter(([, x]) => typeof x !== 'function').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
          any = true;
          if (!one(k, e)) break;
        }
        break;
      case 'int': {
        const n = val as number;
        if (r.pipe.decl.length > 1) errorf(`can't use ${n} to iterate over more than one variable`);
        for (let i = 0; i < n; i++) {
          any = true;
          if (!one(i, i)) break;
        }
        break;
      }
      case 'invalid':
      case 'nil':
        break;
      default:
        errorf(`range can't iterate over ${formatV(val)}`);
    }
    if (!any && r.elseList) walk(dot, r.elseList);
    vars.length = outer;
  }

  function printValue(n: Node, v: unknown) {
    at = n;
    if (kindOf(v) === 'func') errorf(`can't print ${nodeString(n)} of type ${typeName(v)}`);
    out += formatV(v);
  }

  function evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    at = pipe;
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = evalCommand(dot, cmd, value);
    for (const v of pipe.decl) {
      if (pipe.isAssign) setVar(v.ident[0]!, value);
      else vars.push({ name: v.ident[0]!, value });
    }
    return value;
  }

  function notAFunction(args: Node[], final: Final) {
    if (args.length > 1 || final !== MISSING) errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  function evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        at = first;
        return evalFieldChain(dot, dot, first, first.ident, cmd.args, final);
      case 'chain':
        return evalChain(dot, first, cmd.args, final);
      case 'identifier':
        return evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        notAFunction(cmd.args, final);
        return evalPipeline(dot, first);
      case 'variable':
        return evalVariable(dot, first, cmd.args, final);
    }
    at = first;
    notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return errorf('nil is not a command');
      case 'number':
        return idealConstant(first);
      case 'string':
        return first.text;
    }
    return errorf(`can't evaluate command ${JSON.stringify(nodeString(first))}`);
  }

  function idealConstant(n: NumberNode): unknown {
    at = n;
    if (n.isFloat && !n.isChar && !/^[+-]?0[xX][0-9a-fA-F_]+$/.test(n.text) && /[.eEpP]/.test(n.text)) return Number.isInteger(n.float) ? new GoFloat(n.float) : n.float;
    if (n.isInt) return n.int;
    return errorf(`${n.text} overflows int`);
  }

  function evalChain(dot: unknown, chain: ChainNode, args: Node[], final: Final): unknown {
    at = chain;
    if (chain.field.length === 0) return errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') return errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = evalArg(dot, 'value', chain.node);
    return evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  function evalVariable(dot: unknown, v: VariableNode, args: Node[], final: Final): unknown {
    at = v;
    const value = varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      notAFunction(args, final);
      return value;
    }
    return evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  function evalFieldChain(dot: unknown, receiver: unknown, node: FieldNode | ChainNode | VariableNode, ident: string[], args: Node[], final: Final): unknown {
    let r = receiver;
    let fromInterface = false;
    for (let i = 0; i < ident.length - 1; i++) {
      [r, fromInterface] = evalField(dot, ident[i]!, node, [], MISSING, r, fromInterface);
    }
    const [v, viaInterface] = evalField(dot, ident[ident.length - 1]!, node, args, final, r, fromInterface);
    // Go unwraps an interface{} value: a nil one read from a map is no value at all.
    return viaInterface && v === null ? undefined : v;
  }

  /** One step of a field chain: a method call, a struct field or a map entry. */
  function evalField(dot: unknown, name: string, node: Node, args: Node[], final: Final, receiver: unknown, fromInterface: boolean): [unknown, boolean] {
    if (receiver === undefined) {
      if (opts.missingKeyError) errorf(`nil data; no entry for key ${JSON.stringify(name)}`);
      return [undefined, false];
    }
    const typ = fromInterface ? 'interface {}' : typeName(receiver);
    if (receiver === null) errorf(`nil pointer evaluating ${typ}.${name}`);
    const kind = kindOf(receiver);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (kind === 'struct' || kind === 'map') {
      const own = Object.hasOwn(receiver as object, name);
      const v = own ? (receiver as Record<string, unknown>)[name] : undefined;
      if (typeof v === 'function') return [callMethod(dot, v as (...a: unknown[]) => unknown, node, name, args, final), false];
      if (kind === 'struct') {
        if (own && v !== undefined) {
          if (hasArgs) errorf(`${name} has arguments but cannot be invoked as function`);
          return [v, false];
        }
      } else {
        if (hasArgs) errorf(`${name} is not a method but has arguments`);
        if (!own || v === undefined) {
          if (opts.missingKeyError) errorf(`map has no entry for key ${JSON.stringify(name)}`);
          return [undefined, false];
        }
        return [v, true];
      }
    }
    return errorf(`can't evaluate field ${name} in type ${typ}`);
  }

  function callMethod(dot: unknown, fn: (...a: unknown[]) => unknown, node: Node, name: string, args: Node[], final: Final): unknown {
    const params: Param[] = Array.from({ length: fn.length }, () => 'string');
    return evalCall(dot, { params, fn }, node, name, args, final);
  }

  function evalFunction(dot: unknown, node: IdentifierNode, cmd: Node, args: Node[], final: Final): unknown {
    at = node;
    const fn = funcs[node.ident];
    if (!fn) return errorf(`${JSON.stringify(node.ident)} is not a defined function`);
    return evalCall(dot, fn, cmd, node.ident, args, final);
  }

  function evalCall(dot: unknown, fn: GoFunc, node: Node, name: string, all: Node[], final: Final): unknown {
    const args = all.slice(1);
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    const fixed = fn.params.length;
    if (fn.variadic) {
      if (numIn < fixed) errorf(`wrong number of args for ${name}: want at least ${fixed} got ${numIn}`);
    } else if (numIn !== fixed) errorf(`wrong number of args for ${name}: want ${fixed} got ${numIn}`);
    const paramAt = (i: number): Param => (i < fixed ? fn.params[i]! : fn.variadic!);
    if (fn.lazy) {
      let v: unknown;
      const list: (Node | symbol)[] = final !== MISSING ? [...args, MISSING] : [...args];
      for (const a of list) {
        v = typeof a === 'symbol' ? final : evalArg(dot, 'value', a);
        if (truth(v) === (fn.lazy === 'or')) return v;
      }
      return v;
    }
    const argv = args.map((a, i) => evalArg(dot, paramAt(i), a));
    if (final !== MISSING) argv.push(validateType(final, paramAt(args.length)));
    try {
      return fn.fn(...argv);
    } catch (e) {
      at = node;
      if (e instanceof FuncError) return errorf(`error calling ${name}: ${e.message}`);
      if (e instanceof TemplateExecError) throw e;
      return errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  function validateType(v: unknown, p: Param): unknown {
    if (p === 'value') return v;
    if (p === 'any') return v === undefined ? null : v;
    if (v === undefined) return errorf(`invalid value; expected ${p}`);
    const t = typeName(v);
    if (p === 'string' && t === 'string') return v;
    if (p === 'int' && t === 'int') return v;
    if (p === '[]string' && (t === '[]string' || (Array.isArray(v) && v.length === 0))) return v;
    if (v === null && p === '[]string') return [];
    return errorf(`wrong type for value; expected ${p}; got ${t}`);
  }

  function evalArg(dot: unknown, p: Param, n: Node): unknown {
    at = n;
    switch (n.type) {
      case 'dot':
        return validateType(dot, p);
      case 'nil':
        if (p === 'value') return undefined;
        if (p === 'any' || p === '[]string') return p === 'any' ? null : [];
        return errorf(`cannot assign nil to ${p}`);
      case 'field':
        at = n;
        return validateType(evalFieldChain(dot, dot, n, n.ident, [n], MISSING), p);
      case 'variable':
        return validateType(evalVariable(dot, n, [], MISSING), p);
      case 'pipe':
        return validateType(evalPipeline(dot, n), p);
      case 'identifier':
        return validateType(evalFunction(dot, n, n, [n], MISSING), p);
      case 'chain':
        return validateType(evalChain(dot, n, [], MISSING), p);
    }
    switch (p) {
      case 'string':
        if (n.type === 'string') return n.text;
        return errorf(`expected string; found ${nodeString(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return n.int;
        return errorf(`expected integer; found ${nodeString(n)}`);
      case '[]string':
        return errorf(`can't handle ${nodeString(n)} for arg of type []string`);
      default:
        switch (n.type) {
          case 'bool':
            return n.value;
          case 'number':
            return idealConstant(n);
          case 'string':
            return n.text;
        }
        return errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
    }
  }

  try {
    try {
      walk(data, tree.root);
    } catch (e) {
      if (e instanceof Break || e instanceof Continue) errorf('break or continue outside range');
      throw e;
    }
  } catch (e) {
    if (e instanceof TemplateExecError) e.partial = out;
    throw e;
  }
  return out;
}

