/** Go's fmt.Sprintf, Sprint and Sprintln over template values (see values.ts). */
import { goQuote } from './lexer.js';
import { entries, formatExp, formatFixed, formatFloatG, formatV, kindOf, num, typeName } from './values.js';

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

/** fmt.Sprint: operands side by side, a space between two that are both not strings. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    const isStr = typeof a === 'string';
    if (i > 0 && !isStr && typeof args[i - 1] !== 'string') out += ' ';
    out += formatV(a);
  });
  return out;
}

export function sprintln(args: unknown[]): string {
  return args.map((a) => formatV(a)).join(' ') + '\n';
}

export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    const s: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') s.minus = true;
      else if (f === '+') s.plus = true;
      else if (f === '#') s.sharp = true;
      else if (f === ' ') s.space = true;
      else if (f === '0') s.zero = true;
      else break;
    }
    const readNum = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        return typeof a === 'number' && Number.isInteger(a) ? a : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    s.width = readNum();
    if (s.width !== undefined && s.width < 0) {
      s.minus = true;
      s.width = -s.width;
    }
    if (format[i] === '.') {
      i++;
      s.prec = readNum() ?? 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatArg(args[argi++], verb, s);
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => (a === null || a === undefined ? '<nil>' : `${typeName(a)}=${formatV(a)}`)).join(', ') + ')';
  }
  return out;
}

const pad = (s: string, sp: Spec, zeroOk = false): string => {
  const w = sp.width ?? 0;
  const len = [...s].length;
  if (len >= w) return s;
  if (sp.minus) return s + ' '.repeat(w - len);
  if (sp.zero && zeroOk) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    const prefix = /^[+\- ]?0[xXbo]/.exec(s)?.[0].slice(sign.length) ?? '';
    return sign + prefix + '0'.repeat(w - len) + s.slice(sign.length + prefix.length);
  }
  return ' '.repeat(w - len) + s;
};

const bad = (v: unknown, verb: string): string => (v === null || v === undefined ? `%!${verb}(<nil>)` : `%!${verb}(${typeName(v)}=${formatV(v)})`);

function formatArg(v: unknown, verb: string, s: Spec): string {
  if (verb === 'T') return pad(v === null || v === undefined ? '<nil>' : typeName(v), s);
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return verb === 'v' ? pad('<nil>', s) : bad(v, verb);
    case 'bool':
      return verb === 't' || verb === 'v' ? pad(String(v), s) : bad(v, verb);
    case 'int':
      return formatInt(v as number, verb, s) ?? bad(v, verb);
    case 'float':
      return formatFloat(num(v), verb, s) ?? bad(v, verb);
    case 'string':
      return formatString(v as string, verb, s) ?? bad(v, verb);
    case 'func':
      return pad('0x0', s);
    case 'slice': {
      const a = v as unknown[];
      return `[${a.map((e) => formatArg(e, verb, s)).join(' ')}]`;
    }
    case 'map':
      return `map[${entries(v as object).map(([k, e]) => `${formatArg(k, verb, s)}:${formatArg(e, verb, s)}`).join(' ')}]`;
    case 'struct':
      return `{${entries(v as object).map(([k, e]) => (s.plus && verb === 'v' ? `${k}:` : '') + formatArg(e, verb, s)).join(' ')}}`;
  }
}

function sign(n: number | bigint, s: Spec): string {
  if (n < 0) return '-';
  return s.plus ? '+' : s.space ? ' ' : '';
}

function formatInt(n: number, verb: string, s: Spec): string | undefined {
  const a = BigInt(Math.trunc(Math.abs(n)));
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'v':
    case 'd':
      digits = a.toString(10);
      break;
    case 'b':
      digits = a.toString(2);
      if (s.sharp) prefix = '0b';
      break;
    case 'o':
      digits = a.toString(8);
      if (s.sharp) prefix = '0';
      break;
    case 'O':
      digits = a.toString(8);
      prefix = '0o';
      break;
    case 'x':
      digits = a.toString(16);
      if (s.sharp) prefix = '0x';
      break;
    case 'X':
      digits = a.toString(16).toUpperCase();
      if (s.sharp) prefix = '0X';
      break;
    case 'c':
      return pad(String.fromCodePoint(n), s);
    case 'q':
      return pad(`'${goQuote(String.fromCodePoint(n)).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`, s);
    case 'U':
      return pad(`U+${a.toString(16).toUpperCase().padStart(4, '0')}`, s);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
    case 's':
    case 't':
    default:
      return undefined;
  }
  if (s.prec !== undefined) {
    if (s.prec === 0 && a === 0n) digits = '';
    digits = digits.padStart(s.prec, '0');
    return pad(sign(n, s) + prefix + digits, { ...s, zero: false });
  }
  return pad(sign(n, s) + prefix + digits, s, true);
}

function formatFloat(f: number, verb: string, s: Spec): string | undefined {
  let body: string;
  const abs = Math.abs(f);
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
      body = formatFloatG(abs, s.prec ?? -1, verb === 'G');
      break;
    case 'f':
    case 'F':
      body = Number.isFinite(abs) ? formatFixed(abs, s.prec ?? 6) : formatFloatG(abs);
      break;
    case 'e':
    case 'E':
      body = Number.isFinite(abs) ? formatExp(abs, s.prec ?? 6, verb) : formatFloatG(abs);
      break;
    default:
      return undefined;
  }
  if (body === '+Inf') body = 'Inf';
  const neg = f < 0 || Object.is(f, -0);
  return pad((neg ? '-' : s.plus ? '+' : s.space ? ' ' : '') + body, s, Number.isFinite(f));
}

function formatString(str: string, verb: string, s: Spec): string | undefined {
  const cut = (x: string) => (s.prec === undefined ? x : [...x].slice(0, s.prec).join(''));
  switch (verb) {
    case 'v':
    case 's':
      return pad(cut(str), s);
    case 'q':
      return pad(s.sharp && !str.includes('`') ? '`' + cut(str) + '`' : goQuote(cut(str)), s);
    case 'x':
    case 'X': {
      let hex = [...Buffer.from(cut(str), 'utf8')].map((b) => b.toString(16).padStart(2, '0'));
      if (verb === 'X') hex = hex.map((h) => h.toUpperCase());
      return pad(s.space ? hex.join(' ') : hex.join(''), s);
    }
    default:
      return undefined;
  }
}
