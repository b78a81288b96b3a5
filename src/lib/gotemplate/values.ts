/**
 * How JavaScript values stand for Go values in a template:
 *   string, boolean → string, bool; a number → int when it is an integer, else float64;
 *   undefined → no value (Go's invalid reflect.Value: a missing map key); null → nil;
 *   an array → a slice; a plain object → a map (printed and ranged in sorted key order);
 *   an object marked with goStruct() → a struct of that Go type (fields in their own order,
 *   a missing field is an error; function-valued fields are its methods, called with the
 *   template's arguments); goStringMap() marks a map[string]string (a missing key indexes as "").
 */

export const GO_TYPE = Symbol('berth.gotemplate.type');
/** A value's own JSON text for the json function (Go's MarshalJSON). */
export const GO_JSON = Symbol('berth.gotemplate.json');

type Tag = { kind: 'struct'; name: string } | { kind: 'map'; elem: 'string' } | { kind: 'slice'; elem: 'string' };

/** Marks a plain object as a Go struct named `name` (as Go prints it in errors: `*formatter.ContainerContext`). */
export function goStruct<T extends object>(name: string, o: T): T {
  Object.defineProperty(o, GO_TYPE, { value: { kind: 'struct', name } satisfies Tag, enumerable: false });
  return o;
}

/** Marks a plain object as a map[string]string. */
export function goStringMap<T extends object>(o: T): T {
  Object.defineProperty(o, GO_TYPE, { value: { kind: 'map', elem: 'string' } satisfies Tag, enumerable: false });
  return o;
}

/** Marks an array as a []string (one that may be empty). */
export function goStringSlice<T extends unknown[]>(a: T): T {
  Object.defineProperty(a, GO_TYPE, { value: { kind: 'slice', elem: 'string' } satisfies Tag, enumerable: false });
  return a;
}

export type Kind = 'invalid' | 'nil' | 'string' | 'bool' | 'int' | 'float' | 'slice' | 'map' | 'struct' | 'func';

export function kindOf(v: unknown): Kind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'function':
      return 'func';
  }
  if (v instanceof GoFloat) return 'float';
  if (Array.isArray(v)) return 'slice';
  return tagOf(v)?.kind === 'struct' ? 'struct' : 'map';
}

/** A float64 whose value is integral (a literal 1.0, say), kept apart from ints. */
export class GoFloat {
  constructor(readonly value: number) {}
}

export const num = (v: unknown): number => (v instanceof GoFloat ? v.value : Number(v));

function tagOf(v: object): Tag | undefined {
  return (v as { [GO_TYPE]?: Tag })[GO_TYPE];
}

export function isStringMap(v: unknown): boolean {
  return typeof v === 'object' && v !== null && tagOf(v)?.kind === 'map';
}

/** Go's name of the value's type, as errors and %T print it. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'func':
      return 'func';
    case 'slice': {
      const a = v as unknown[];
      return tagOf(a)?.kind === 'slice' || (a.length > 0 && a.every((e) => typeof e === 'string')) ? '[]string' : '[]interface {}';
    }
    case 'map':
      return isStringMap(v) ? 'map[string]string' : 'map[string]interface {}';
    case 'struct':
      return (tagOf(v as object) as { name: string }).name;
  }
}

/** The fields of a struct or the entries of a map (sorted by key, as Go prints and ranges them). */
export function entries(v: object): [string, unknown][] {
  const e = Object.entries(v).filter(([, x]) => typeof x !== 'function');
  return kindOf(v) === 'struct' ? e : e.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Go's truth: false, 0, "", nil, no value and empty slices/maps are false. */
export function truth(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'string':
      return (v as string) !== '';
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return num(v) !== 0;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return entries(v as object).length > 0;
    default:
      return true;
  }
}

/** Go's strconv.FormatFloat(f, 'g', prec, 64) (prec -1: the shortest repr; %e from exponent < -4 or >= 6). */
export function formatFloatG(f: number, prec = -1, upper = false): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const shortest = prec < 0;
  let digits: string;
  let exp: number;
  if (shortest) {
    const [mant, expStr] = Math.abs(f).toExponential().split('e');
    digits = mant!.replace('.', '');
    exp = Number(expStr);
  } else {
    const d = roundDigits(exactDigits(Math.abs(f)), Math.max(prec, 1));
    digits = d.digits.replace(/0+$/, '') || '0';
    exp = d.dp - 1;
  }
  const eprec = shortest ? 6 : Math.max(prec, 1);
  const sign = f < 0 ? '-' : '';
  if (exp < -4 || exp >= eprec) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    return `${sign}${m}${upper ? 'E' : 'e'}${e}`;
  }
  return sign + placeDot(digits, exp);
}

/** Digits d1d2d3… with the decimal exponent `exp` (d1 is 10^exp) as a plain decimal. */
function placeDot(digits: string, exp: number): string {
  if (exp < 0) return '0.' + '0'.repeat(-exp - 1) + digits;
  if (digits.length <= exp + 1) return digits + '0'.repeat(exp + 1 - digits.length);
  return digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
}

/** Go's fmt %v of a value (fmt.Sprint of one operand). */
export function formatV(v: unknown, plus = false, depth = 0): string {
  switch (kindOf(v)) {
    case 'invalid':
      return depth === 0 ? '<no value>' : '<nil>';
    case 'nil':
      return '<nil>';
    case 'string':
      return v as string;
    case 'bool':
      return String(v);
    case 'int':
      return typeof v === 'bigint' ? v.toString() : String(v);
    case 'float':
      return formatFloatG(num(v));
    case 'func':
      return '0x0';
    case 'slice':
      return `[${(v as unknown[]).map((e) => formatV(e, plus, depth + 1)).join(' ')}]`;
    case 'map':
      return `map[${entries(v as object).map(([k, e]) => `${k}:${formatV(e, plus, depth + 1)}`).join(' ')}]`;
    case 'struct':
      return `{${entries(v as object).map(([k, e]) => (plus ? `${k}:` : '') + formatV(e, plus, depth + 1)).join(' ')}}`;
  }
}

/** A finite non-negative double exactly as decimal digits: value = 0.DIGITS × 10^dp. */
export function exactDigits(x: number): { digits: string; dp: number } {
  if (x === 0) return { digits: '0', dp: 1 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const bexp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e2: number;
  if (bexp === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = bexp - 1075;
  }
  let digits: string;
  let dp: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e2)).toString();
    dp = digits.length + e2;
  }
  return { digits: digits.replace(/0+$/, '') || '0', dp };
}

/** Rounds to nd significant digits, half to even (Go's strconv). */
export function roundDigits(d: { digits: string; dp: number }, nd: number): { digits: string; dp: number } {
  const { digits, dp } = d;
  if (nd >= digits.length) return { digits: digits.padEnd(Math.max(nd, 0), '0'), dp };
  if (nd < 0) return { digits: '', dp: dp };
  const next = digits[nd]!;
  const rest = digits.slice(nd + 1);
  const prev = nd > 0 ? Number(digits[nd - 1]) : 0;
  const up = next > '5' || (next === '5' && (/[1-9]/.test(rest) || prev % 2 === 1));
  let kept = digits.slice(0, nd);
  if (!up) return { digits: kept, dp };
  let n = (BigInt(kept || '0') + 1n).toString();
  if (kept === '') return { digits: n, dp: dp + 1 };
  n = n.padStart(kept.length, '0');
  if (n.length > kept.length) return { digits: n.slice(0, nd), dp: dp + 1 };
  kept = n;
  return { digits: kept, dp };
}

/** Go's %.{prec}f of a finite non-negative number. */
export function formatFixed(x: number, prec: number): string {
  const d = exactDigits(x);
  const r = roundDigits(d, d.dp + prec);
  let digits = r.digits;
  let dp = r.dp;
  if (digits === '' || /^0*$/.test(digits)) {
    digits = '';
    dp = 0;
  }
  const intPart = dp > 0 ? (digits.slice(0, dp).padEnd(dp, '0')) : '0';
  let frac = dp >= 0 ? digits.slice(dp) : '0'.repeat(-dp) + digits;
  frac = frac.padEnd(prec, '0').slice(0, prec);
  return prec > 0 ? `${intPart}.${frac}` : intPart;
}

/** Go's %.{prec}e of a finite non-negative number (lower or upper case E). */
export function formatExp(x: number, prec: number, e = 'e'): string {
  let digits: string;
  let dp: number;
  if (x === 0) {
    digits = '0'.repeat(prec + 1);
    dp = 1;
  } else {
    ({ digits, dp } = roundDigits(exactDigits(x), prec + 1));
  }
  const exp = x === 0 ? 0 : dp - 1;
  const m = prec > 0 ? `${digits[0]}.${digits.slice(1, prec + 1)}` : digits[0]!;
  return `${m}${e}${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}
