/**
 * Docker's word processing for Dockerfile arguments (BuildKit's shell lexer): quotes, the escape
 * character, and variable substitution — $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word},
 * ${VAR+word}, ${VAR:?msg}, ${VAR?msg}. Used for FROM, COPY, ADD, ENV, ARG, LABEL, EXPOSE, USER,
 * WORKDIR, VOLUME, STOPSIGNAL; RUN, CMD and ENTRYPOINT are left to the shell.
 */

export type Lookup = (name: string) => string | undefined;

export class LexError extends Error {}

interface Options {
  /** Only variables are special (heredoc contents): quotes stay, the escape only protects '$'. */
  raw?: boolean;
  /** Split into words on unquoted white space (ProcessWords) or keep one word (ProcessWord). */
  split: boolean;
  escape: string;
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const WS = /\s/;

class Lexer {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly env: Lookup,
    private readonly o: Options,
  ) {}

  /** The words (split) or the one word of the input. */
  run(stopAt?: string): string[] {
    const words: string[] = [];
    let cur = '';
    let inWord = false;
    const { s, o } = this;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (stopAt !== undefined && c === stopAt) break;
      if (o.raw && c === o.escape && s[this.i + 1] === '$') {
        cur += '$';
        this.i += 2;
        continue;
      }
      if (o.raw && c !== '$') {
        cur += c;
        this.i++;
        continue;
      }
      if (c === o.escape) {
        this.i++;
        if (this.i >= s.length) {
          cur += c;
          inWord = true;
          break;
        }
        cur += s[this.i]!;
        this.i++;
        inWord = true;
        continue;
      }
      if (c === "'") {
        const end = s.indexOf("'", this.i + 1);
        if (end < 0) throw new LexError('unexpected end of statement while looking for matching single-quote');
        cur += s.slice(this.i + 1, end);
        this.i = end + 1;
        inWord = true;
        continue;
      }
      if (c === '"') {
        this.i++;
        cur += this.doubleQuoted();
        inWord = true;
        continue;
      }
      if (c === '$') {
        const v = this.variable();
        if (o.split && !inWord && v === '') continue;
        if (o.split) {
          // An unquoted expansion is split into words as the shell would.
          const parts = v.split(/\s+/);
          for (let k = 0; k < parts.length; k++) {
            if (k > 0) {
              if (inWord || cur) words.push(cur);
              cur = '';
              inWord = false;
            }
            if (parts[k]) {
              cur += parts[k];
              inWord = true;
            }
          }
        } else {
          cur += v;
          inWord = true;
        }
        continue;
      }
      if (o.split && WS.test(c)) {
        if (inWord) words.push(cur);
        cur = '';
        inWord = false;
        this.i++;
        continue;
      }
      cur += c;
      inWord = true;
      this.i++;
    }
    if (inWord || !o.split) words.push(cur);
    return words;
  }

  private doubleQuoted(): string {
    const { s, o } = this;
    let out = '';
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === o.escape) {
        const n = s[this.i + 1];
        if (n === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
        if (n === '"' || n === '$' || n === o.escape) out += n;
        else out += c + n;
        this.i += 2;
        continue;
      }
      if (c === '$') {
        out += this.variable();
        continue;
      }
      out += c;
      this.i++;
    }
    throw new LexError('unexpected end of statement while looking for matching double-quote');
  }

  /** At a '$': its expansion (a lone '$' stays itself). */
  private variable(): string {
    const { s } = this;
    this.i++; // $
    const c = s[this.i];
    if (c === undefined) return '$';
    if (c === '{') {
      this.i++;
      let name = '';
      while (this.i < s.length && NAME_CHAR.test(s[this.i]!)) name += s[this.i++]!;
      if (!name) throw new LexError(`bad substitution: missing variable name in \${...}`);
      const next = s[this.i];
      if (next === '}') {
        this.i++;
        return this.env(name) ?? '';
      }
      let op = '';
      if (next === ':') {
        op = ':';
        this.i++;
      }
      const k = s[this.i];
      if (k !== '-' && k !== '+' && k !== '?') throw new LexError(`unsupported modifier (${op}${k ?? ''}) in substitution of ${name}`);
      op += k;
      this.i++;
      // The word is itself processed (quotes, nested variables) up to the closing brace.
      const sub = new Lexer(s, this.env, { ...this.o, split: false });
      sub.i = this.i;
      const word = sub.run('}')[0] ?? '';
      if (s[sub.i] !== '}') throw new LexError(`missing '}' in substitution of ${name}`);
      this.i = sub.i + 1;
      const v = this.env(name);
      const set = v !== undefined;
      const nonEmpty = set && v !== '';
      switch (op) {
        case ':-':
          return nonEmpty ? v : word;
        case '-':
          return set ? v : word;
        case ':+':
          return nonEmpty ? word : '';
        case '+':
          return set ? word : '';
        case ':?':
          if (!nonEmpty) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
          return v;
        default:
          if (!set) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
          return v;
      }
    }
    if (NAME_START.test(c)) {
      let name = '';
      while (this.i < s.length && NAME_CHAR.test(s[this.i]!)) name += s[this.i++]!;
      return this.env(name) ?? '';
    }
    return '$';
  }
}

/** One word: quotes removed, variables expanded, no splitting. */
export function processWord(s: string, env: Lookup, escape = '\\'): string {
  return new Lexer(s, env, { split: false, escape }).run()[0] ?? '';
}

/** Variables expanded, everything else kept as it is (heredoc contents). */
export function expandVariables(s: string, env: Lookup, escape = '\\'): string {
  return new Lexer(s, env, { split: false, escape, raw: true }).run()[0] ?? '';
}

/** Words split on unquoted white space, each with quotes removed and variables expanded. */
export function processWords(s: string, env: Lookup, escape = '\\'): string[] {
  return new Lexer(s, env, { split: true, escape }).run();
}

/**
 * Splits the raw argument text on unquoted white space without processing it (quotes and
 * escapes kept), as Docker splits ENV/LABEL/ARG arguments into key=value words first.
 */
export function splitRaw(s: string, escape = '\\'): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === escape && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
      inWord = true;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== c) {
        if (c === '"' && s[j] === escape) j++;
        j++;
      }
      if (j >= s.length) throw new LexError(`unexpected end of statement while looking for matching ${c === '"' ? 'double' : 'single'}-quote`);
      cur += s.slice(i, j + 1);
      i = j;
      inWord = true;
    } else if (WS.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
