/** Go's text/template lexer: the template text as a list of items (text, delimiters, operands). */

export type ItemType =
  | 'error' | 'bool' | 'char' | 'charConstant' | 'comment' | 'assign' | 'declare' | 'eof' | 'field' | 'identifier'
  | 'leftDelim' | 'leftParen' | 'number' | 'pipe' | 'rawString' | 'rightDelim' | 'rightParen' | 'space' | 'string'
  | 'text' | 'variable' | 'dot' | 'nil'
  // keywords
  | 'block' | 'break' | 'continue' | 'define' | 'else' | 'end' | 'if' | 'range' | 'template' | 'with';

export interface Item {
  type: ItemType;
  /** Offset of the item in the input (UTF-16 index; errors turn it into Go's byte column). */
  pos: number;
  val: string;
  line: number;
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'nil', 'template', 'with']);
const LEFT = '{{';
const RIGHT = '}}';
const TRIM = '-';

/** Go's item.String(): how a token is quoted in a parse error. */
export function itemString(i: Item): string {
  if (i.type === 'eof') return 'EOF';
  if (i.type === 'error') return i.val;
  if (KEYWORDS.has(i.type) && i.type !== 'nil') return `<${i.val}>`;
  if (i.type === 'nil') return `<${i.val}>`;
  if ([...i.val].length > 10) return `${goQuote([...i.val].slice(0, 10).join(''))}...`;
  return goQuote(i.val);
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string) => c === '_' || /^[\p{L}\p{Nd}]$/u.test(c);

/** Lexes the whole template; stops at the first error item. */
export function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;
  const emit = (type: ItemType, val = input.slice(start, pos)) => {
    items.push({ type, pos: start, val, line: startLine });
    start = pos;
    startLine = line;
  };
  const ignore = () => {
    line += count(input.slice(start, pos), '\n');
    start = pos;
    startLine = line;
  };
  const advance = (n: number) => {
    line += count(input.slice(pos, pos + n), '\n');
    pos += n;
  };
  const fail = (msg: string): Item[] => {
    items.push({ type: 'error', pos: start, val: msg, line: startLine });
    return items;
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (input.startsWith(RIGHT, pos)) return { delim: true, trim: false };
    if (input[pos] === TRIM && isSpace(input[pos - 1] ?? '') && input.startsWith(RIGHT, pos + 1)) return { delim: true, trim: true };
    return { delim: false, trim: false };
  };
  /** Past a quoted string or character constant (its opening quote read); false if it does not end on its line. */
  const scanQuoted = (quote: string): boolean => {
    for (;;) {
      const d = input[pos];
      if (d === undefined || d === '\n') return false;
      advance(1);
      if (d === '\\') {
        const e = input[pos];
        if (e === undefined || e === '\n') return false;
        advance(1);
      } else if (d === quote) return true;
    }
  };
  const atTerminator = () => {
    const c = input[pos];
    if (c === undefined || isSpace(c)) return true;
    if ('.,|:)('.includes(c)) return true;
    return input.startsWith(RIGHT, pos);
  };

  for (;;) {
    // text
    const i = input.indexOf(LEFT, pos);
    if (i < 0) {
      advance(input.length - pos);
      if (pos > start) emit('text');
      emit('eof', '');
      return items;
    }
    advance(i - pos);
    let trimLeft = false;
    if (input[i + 2] === TRIM && isSpace(input[i + 3] ?? '')) trimLeft = true;
    let textEnd = pos;
    if (trimLeft) while (textEnd > start && isSpace(input[textEnd - 1]!)) textEnd--;
    if (textEnd > start) {
      items.push({ type: 'text', pos: start, val: input.slice(start, textEnd), line: startLine });
    }
    start = pos;
    startLine = line;
    // left delimiter
    advance(2 + (trimLeft ? 2 : 0));
    const afterMarker = pos;
    if (input.startsWith('/*', pos)) {
      // comment
      const end = input.indexOf('*/', pos + 2);
      if (end < 0) return fail('unclosed comment');
      advance(end + 2 - pos);
      const r = input.startsWith(RIGHT, pos) ? { delim: true, trim: false } : input.startsWith(' -' + RIGHT, pos) ? { delim: true, trim: true } : { delim: false, trim: false };
      if (!r.delim) return fail('comment ends before closing delimiter');
      advance(r.trim ? 4 : 2);
      ignore();
      if (r.trim) {
        while (pos < input.length && isSpace(input[pos]!)) advance(1);
        ignore();
      }
      continue;
    }
    pos = afterMarker;
    start = pos - (trimLeft ? 4 : 2);
    items.push({ type: 'leftDelim', pos: start, val: LEFT, line: startLine });
    start = pos;
    startLine = line;
    parenDepth = 0;
    // inside action
    for (;;) {
      const r = atRightDelim();
      if (r.delim) {
        if (parenDepth > 0) return fail('unclosed left paren');
        if (r.trim) advance(1);
        start = pos;
        advance(2);
        emit('rightDelim', RIGHT);
        if (r.trim) {
          while (pos < input.length && isSpace(input[pos]!)) advance(1);
          ignore();
        }
        break;
      }
      const c = input[pos];
      if (c === undefined) return fail('unclosed action');
      if (isSpace(c)) {
        // a run of spaces; a trim marker right after it belongs to the delimiter
        while (pos < input.length && isSpace(input[pos]!)) {
          if (input[pos + 1] === TRIM && input.startsWith(RIGHT, pos + 2)) {
            advance(1);
            break;
          }
          advance(1);
        }
        emit('space');
        continue;
      }
      advance(1);
      if (c === '=') emit('assign');
      else if (c === ':') {
        if (input[pos] !== '=') return fail('expected :=');
        advance(1);
        emit('declare');
      } else if (c === '|') emit('pipe');
      else if (c === '"') {
        if (!scanQuoted('"')) return fail('unterminated quoted string');
        emit('string');
      } else if (c === '`') {
        const end = input.indexOf('`', pos);
        if (end < 0) return fail('unterminated raw quoted string');
        advance(end + 1 - pos);
        emit('rawString');
      } else if (c === '$') {
        if (atTerminator()) {
          emit('variable');
          continue;
        }
        while (pos < input.length && isAlnum(input[pos]!)) advance(1);
        if (!atTerminator()) return fail(`bad character ${goRune(input[pos]!)}`);
        emit('variable');
      } else if (c === "'") {
        if (!scanQuoted("'")) return fail('unterminated character constant');
        emit('charConstant');
      } else if (c === '.' && !(input[pos]! >= '0' && input[pos]! <= '9')) {
        if (atTerminator()) {
          emit('dot');
          continue;
        }
        while (pos < input.length && isAlnum(input[pos]!)) advance(1);
        if (!atTerminator()) return fail(`bad character ${goRune(input[pos]!)}`);
        emit('field');
      } else if (c === '.' || c === '+' || c === '-' || (c >= '0' && c <= '9')) {
        pos--;
        let n = scanNumber(input, pos);
        if (n.ok && (input[n.end] === '+' || input[n.end] === '-')) {
          const m = scanNumber(input, n.end);
          if (!m.ok || input[m.end - 1] !== 'i') n = { end: m.end, ok: false };
          else n = m;
        }
        advance(n.end - pos);
        if (!n.ok) return fail(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
        emit('number');
      } else if (isAlnum(c)) {
        while (pos < input.length && isAlnum(input[pos]!)) advance(1);
        if (!atTerminator()) return fail(`bad character ${goRune(input[pos]!)}`);
        const word = input.slice(start, pos);
        if (KEYWORDS.has(word)) emit(word as ItemType);
        else if (word === 'true' || word === 'false') emit('bool');
        else emit('identifier');
      } else if (c === '(') {
        emit('leftParen');
        parenDepth++;
      } else if (c === ')') {
        parenDepth--;
        if (parenDepth < 0) return fail('unexpected right paren');
        emit('rightParen');
      } else if (c.charCodeAt(0) <= 0x7f && c >= ' ' && c !== '\x7f') {
        emit('char');
      } else {
        const cp = input.codePointAt(pos - 1)!;
        return fail(`unrecognized character in action: ${goRune(String.fromCodePoint(cp))}`);
      }
    }
  }
}

/** Go's scanNumber: sign, base prefix, digits with underscores, fraction, exponent, imaginary; not followed by a letter. */
function scanNumber(s: string, p: number): { end: number; ok: boolean } {
  let i = p;
  if (s[i] === '+' || s[i] === '-') i++;
  let digits = '0123456789_';
  if (s[i] === '0') {
    i++;
    if (/[xXoObB]/.test(s[i] ?? '')) {
      const b = s[i]!.toLowerCase();
      i++;
      digits = b === 'x' ? '0123456789abcdefABCDEF_' : b === 'o' ? '01234567_' : '01_';
    }
  }
  const run = () => {
    while (i < s.length && digits.includes(s[i]!)) i++;
  };
  run();
  if (s[i] === '.') {
    i++;
    run();
  }
  if (digits.length === 11 && /[eE]/.test(s[i] ?? '')) {
    i++;
    if (s[i] === '+' || s[i] === '-') i++;
    while (i < s.length && /[0-9_]/.test(s[i]!)) i++;
  }
  if (digits.length === 23 && /[pP]/.test(s[i] ?? '')) {
    i++;
    if (s[i] === '+' || s[i] === '-') i++;
    while (i < s.length && /[0-9_]/.test(s[i]!)) i++;
  }
  if (s[i] === 'i') i++;
  if (i < s.length && isAlnum(s[i]!)) return { end: i + 1, ok: false };
  return { end: i, ok: true };
}

function count(s: string, c: string): number {
  let n = 0;
  for (const ch of s) if (ch === c) n++;
  return n;
}

/** Byte offset (UTF-8) of a UTF-16 index, as Go's positions are bytes. */
export function bytePos(s: string, i: number): number {
  let n = 0;
  for (let k = 0; k < i; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      k++;
    } else n += 3;
  }
  return n;
}

/** Go's %#U of a rune: U+0023 '#'. */
export function goRune(c: string): string {
  const cp = c.codePointAt(0)!;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return `U+${hex} '${c}'`;
}

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp === 0xfffd || !/[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]/u.test(ch)) {
      out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out + '"';
}
