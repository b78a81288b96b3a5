/** Go's template builtins and the docker CLI's extra functions (json, join, split, ...). */
import { sprint, sprintf, sprintln } from './fmt.js';
import { GO_JSON, GoFloat, entries, formatV, goStringSlice, isStringMap, kindOf, num, truth, typeName } from './values.js';

/** A parameter's Go type, as the evaluator converts arguments to it. */
/** any: Go's interface{} (no value becomes nil); value: reflect.Value (no value stays so). */
export type Param = 'any' | 'value' | 'string' | 'int' | '[]string';

export interface GoFunc {
  params: Param[];
  /** The type of the trailing variadic parameters, if any. */
  variadic?: Param;
  /** and/or: arguments evaluated one by one, stopping early. */
  lazy?: 'and' | 'or';
  /** Throws FuncError for a Go error result. */
  fn: (...args: unknown[]) => unknown;
}

/** An error a function returns (Go's second result): "error calling NAME: MESSAGE". */
export class FuncError extends Error {}

const f = (params: Param[], fn: (...a: any[]) => unknown, variadic?: Param): GoFunc => ({ params, fn, ...(variadic ? { variadic } : {}) });

type BasicKind = 'invalid' | 'bool' | 'int' | 'float' | 'string' | 'other';
const basicKind = (v: unknown): BasicKind => {
  const k = kindOf(v);
  return k === 'bool' || k === 'int' || k === 'float' || k === 'string' ? k : k === 'invalid' ? 'invalid' : 'other';
};

function eq(a: unknown, ...bs: unknown[]): boolean {
  if (bs.length === 0) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of bs) {
    const k2 = basicKind(b);
    if (k1 !== k2) {
      if (a !== undefined && b !== undefined) throw new FuncError('incompatible types for comparison');
      continue;
    }
    if (k1 === 'other') {
      const ka = kindOf(a);
      if (ka === 'slice' || ka === 'map' || ka === 'func' || kindOf(b) === 'slice' || kindOf(b) === 'map') {
        if (a === null || b === null) {
          if (a === b) return true;
          continue;
        }
        throw new FuncError(`non-comparable type ${formatV(a)}: ${typeName(a)}`);
      }
      if (a === b) return true;
      continue;
    }
    if (k1 === 'invalid' || num2(a) === num2(b)) return true;
  }
  return false;
}
const num2 = (v: unknown) => (v instanceof GoFloat ? v.value : v);


function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'other' || k1 === 'invalid' || k2 === 'other' || k2 === 'invalid') throw new FuncError('invalid type for comparison');
  if (k1 !== k2) throw new FuncError('incompatible types for comparison');
  if (k1 === 'bool') throw new FuncError('invalid type for comparison');
  return (num2(a) as number | string) < (num2(b) as number | string);
}

function length(v: unknown): number {
  switch (kindOf(v)) {
    case 'string':
      return Buffer.byteLength(v as string);
    case 'slice':
      return (v as unknown[]).length;
    case 'map':
      return entries(v as object).length;
    case 'nil':
      throw new FuncError('len of nil pointer');
    case 'invalid':
      throw new FuncError('reflect: call of reflect.Value.Type on zero Value');
    default:
      throw new FuncError(`len of type ${typeName(v)}`);
  }
}

function indexArg(i: unknown, len: number): number {
  if (i === undefined || i === null) throw new FuncError('cannot index slice/array with nil');
  if (kindOf(i) !== 'int') throw new FuncError(`cannot index slice/array with type ${typeName(i)}`);
  const x = num(i);
  if (x < 0 || x > len) throw new FuncError(`index out of range: ${x}`);
  return x;
}

function index(item: unknown, ...idx: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('index of untyped nil');
  let v: unknown = item;
  for (const i of idx) {
    if (v === null) throw new FuncError('index of nil pointer');
    switch (kindOf(v)) {
      case 'slice': {
        const a = v as unknown[];
        const x = indexArg(i, a.length);
        if (x === a.length) throw new FuncError('reflect: slice index out of range');
        v = a[x];
        break;
      }
      case 'string': {
        const b = Buffer.from(v as string);
        const x = indexArg(i, b.length);
        if (x === b.length) throw new FuncError('reflect: string index out of range');
        v = b[x];
        break;
      }
      case 'map': {
        if (typeof i !== 'string') throw new FuncError(`value has type ${typeName(i)}; should be string`);
        const m = v as Record<string, unknown>;
        v = Object.hasOwn(m, i) ? m[i] : isStringMap(m) ? '' : undefined;
        break;
      }
      default:
        throw new FuncError(`can't index item of type ${typeName(v)}`);
    }
  }
  return v;
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil');
  if (idx.length > 3) throw new FuncError(`too many slice indexes: ${idx.length}`);
  const k = kindOf(item);
  if (k !== 'string' && k !== 'slice') throw new FuncError(`can't slice item of type ${typeName(item)}`);
  if (k === 'string' && idx.length === 3) throw new FuncError('cannot 3-index slice a string');
  const len = k === 'string' ? Buffer.byteLength(item as string) : (item as unknown[]).length;
  const ix = [0, len];
  idx.slice(0, 2).forEach((i, n) => (ix[n] = indexArg(i, len)));
  if (ix[0]! > ix[1]!) throw new FuncError(`invalid slice index: ${ix[0]} > ${ix[1]}`);
  if (k === 'string') return Buffer.from(item as string).subarray(ix[0], ix[1]).toString();
  return (item as unknown[]).slice(ix[0], ix[1]);
}

const evalArgs = (a: unknown[]): string => (a.length === 1 && typeof a[0] === 'string' ? a[0] : sprint(a));

function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' })[c]!);
}

function jsEscape(s: string): string {
  let out = '';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === '\\') out += '\\\\';
    else if (c === "'") out += "\\'";
    else if (c === '"') out += '\\"';
    else if ('<>&='.includes(c) || cp < 0x20) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else if (cp < 0x80 || /[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]/u.test(c)) out += c;
    else out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

function queryEscape(s: string): string {
  return [...Buffer.from(s)].map((b) => {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
    if (c === ' ') return '+';
    return '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }).join('');
}

/** Go's encoding/json of a template value: maps with sorted keys, structs in field order. */
export function toJSON(v: unknown, escapeHTML = false): string {
  const own = v !== null && typeof v === 'object' ? (v as { [GO_JSON]?: () => string })[GO_JSON] : undefined;
  if (own) return own.call(v);
  let s: string;
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
    case 'func':
      return 'null';
    case 'float':
      s = JSON.stringify(num(v));
      break;
    case 'slice':
      return `[${(v as unknown[]).map((e) => toJSON(e, escapeHTML)).join(',')}]`;
    case 'map':
    case 'struct':
      return `{${entries(v as object).filter(([, e]) => e !== undefined).map(([k, e]) => `${quoteJSON(k, escapeHTML)}:${toJSON(e, escapeHTML)}`).join(',')}}`;
    case 'string':
      return quoteJSON(v as string, escapeHTML);
    default:
      s = JSON.stringify(v);
  }
  return s;
}

function quoteJSON(s: string, escapeHTML: boolean): string {
  let q = JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
  if (escapeHTML) q = q.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  return q;
}

/** strings.Title: the first letter of each word in upper case. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const c of s) {
    const sep = !/[\p{L}\p{N}_]/u.test(prev);
    out += sep ? c.toUpperCase() : c;
    prev = c;
  }
  return out;
}

export const BUILTINS: Record<string, GoFunc> = {
  and: { params: ['value'], variadic: 'value', lazy: 'and', fn: () => undefined },
  or: { params: ['value'], variadic: 'value', lazy: 'or', fn: () => undefined },
  not: f(['value'], (a) => !truth(a)),
  len: f(['value'], length),
  index: f(['value'], index, 'value'),
  slice: f(['value'], slice, 'value'),
  print: f([], (...a) => sprint(a), 'any'),
  printf: f(['string'], (fmt: string, ...a) => sprintf(fmt, a), 'any'),
  println: f([], (...a) => sprintln(a), 'any'),
  html: f([], (...a) => htmlEscape(evalArgs(a)), 'any'),
  js: f([], (...a) => jsEscape(evalArgs(a)), 'any'),
  urlquery: f([], (...a) => queryEscape(evalArgs(a)), 'any'),
  eq: f(['value'], eq, 'value'),
  ne: f(['value', 'value'], (a, b) => !eq(a, b)),
  lt: f(['value', 'value'], lt),
  le: f(['value', 'value'], (a, b) => lt(a, b) || eq(a, b)),
  gt: f(['value', 'value'], (a, b) => !lt(a, b) && !eq(a, b)),
  ge: f(['value', 'value'], (a, b) => !lt(a, b)),
  call: f(['value'], (fn, ...a) => {
    if (typeof fn !== 'function') throw new FuncError(`non-function ${formatV(fn)} of type ${typeName(fn)}`);
    return fn(...a);
  }, 'any'),
};

/** The docker CLI's template functions (cli/templates). */
export const DOCKER_FUNCS: Record<string, GoFunc> = {
  json: f(['any'], (v) => toJSON(v)),
  split: f(['string', 'string'], (s: string, sep: string) => goStringSlice(s.split(sep))),
  join: f(['[]string', 'string'], (a: string[], sep: string) => a.join(sep)),
  title: f(['string'], title),
  lower: f(['string'], (s: string) => s.toLowerCase()),
  upper: f(['string'], (s: string) => s.toUpperCase()),
  pad: f(['string', 'int', 'int'], (s: string, a: number, b: number) => (s === '' ? s : ' '.repeat(Math.max(a, 0)) + s + ' '.repeat(Math.max(b, 0)))),
  truncate: f(['string', 'int'], (s: string, n: number) => (Buffer.byteLength(s) < n ? s : Buffer.from(s).subarray(0, n).toString())),
};

/** The docker CLI's functions as they run for a table's header row: each gives back its first argument. */
export const DOCKER_HEADER_FUNCS: Record<string, GoFunc> = {
  json: f(['string'], (v: string) => v),
  split: f(['string', 'string'], (v: string) => v),
  join: f(['string', 'string'], (v: string) => v),
  title: f(['string'], (v: string) => v),
  lower: f(['string'], (v: string) => v),
  upper: f(['string'], (v: string) => v),
  pad: f(['string', 'int', 'int'], (v: string) => v),
  truncate: f(['string', 'int'], (v: string) => v),
};
