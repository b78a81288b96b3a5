/**
 * Dockerfile parser, with Docker's rules: parser directives (`# syntax=`, `# escape=`) at the very
 * top, line continuations with the escape character, comment and blank lines (also inside a
 * continuation), heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`) for RUN, COPY and ADD, leading
 * `--flag=value` options, and JSON (exec) forms. Every instruction keeps its line numbers so
 * that each error can name `file:line`.
 */
import { invalidArgument } from '../lib/errors.js';

export interface Heredoc {
  name: string;
  content: string;
  /** Unquoted terminator: variables in the content are expanded (COPY/ADD; RUN leaves it to the shell). */
  expand: boolean;
  /** `<<-`: leading tabs stripped. */
  chomp: boolean;
}

export interface Flag {
  name: string;
  value: string | undefined;
}

export interface Instruction {
  /** The keyword, upper case. */
  cmd: string;
  /** First and last line (1-based) of the instruction in the file. */
  line: number;
  endLine: number;
  /** Everything after the keyword, continuations joined. */
  args: string;
  /** args without the leading --flags. */
  rest: string;
  flags: Flag[];
  /** rest as a JSON array of strings (the exec form), when it is one. */
  json?: string[];
  heredocs: Heredoc[];
  /** The file name for error messages. */
  file: string;
}

export interface Dockerfile {
  file: string;
  escape: string;
  syntax?: string;
  instructions: Instruction[];
}

export const INSTRUCTIONS = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);
const WITH_FLAGS = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'HEALTHCHECK']);
const WITH_HEREDOCS = new Set(['RUN', 'COPY', 'ADD']);
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** An error at a place in a Dockerfile: `Dockerfile:3: message`. */
export function dockerfileError(file: string, line: number, msg: string): Error {
  return invalidArgument(`${file}:${line}: ${msg}`);
}

export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let syntax: string | undefined;
  const seen = new Set<string>();
  let i = 0;
  // Parser directives: only at the very top, before any comment, blank line or instruction.
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (key !== 'escape' && key !== 'syntax' && key !== 'check') break;
    if (seen.has(key)) throw dockerfileError(file, i + 1, `only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw dockerfileError(file, i + 1, `invalid escape token ${JSON.stringify(m[2])} does not match ${'`'} or \\`);
      escape = m[2]!;
    } else if (key === 'syntax') syntax = m[2];
  }
  const cont = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const isComment = (l: string) => /^\s*#/.test(l);
  const isBlank = (l: string) => /^\s*$/.test(l);
  const out: Instruction[] = [];
  while (i < lines.length) {
    const first = lines[i]!;
    if (isBlank(first) || isComment(first)) {
      i++;
      continue;
    }
    const start = i + 1;
    let text = '';
    let firstPiece = true;
    let end = start;
    while (i < lines.length) {
      const l = lines[i]!;
      if (!firstPiece && (isBlank(l) || isComment(l))) {
        i++;
        continue;
      }
      firstPiece = false;
      end = i + 1;
      i++;
      const m = cont.exec(l);
      if (m) {
        text += l.slice(0, m.index);
        continue;
      }
      text += l;
      break;
    }
    const m = /^\s*(\S+)\s*([\s\S]*?)\s*$/.exec(text);
    if (!m) continue;
    const cmd = m[1]!.toUpperCase();
    if (!INSTRUCTIONS.has(cmd)) throw dockerfileError(file, start, `unknown instruction: ${m[1]}`);
    const args = m[2]!;
    const inst = makeInstruction(cmd, args, file, start, end);
    if (WITH_HEREDOCS.has(cmd)) {
      for (const h of args.matchAll(HEREDOC)) {
        const name = h[3]!;
        const chomp = h[1] === '-';
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          const raw = lines[i]!;
          i++;
          const l = chomp ? raw.replace(/^\t+/, '') : raw;
          if (l === name) {
            closed = true;
            break;
          }
          body.push(l);
        }
        if (!closed) throw dockerfileError(file, start, `unterminated heredoc ${name}: no line "${name}" after it`);
        inst.heredocs.push({ name, content: body.length ? body.join('\n') + '\n' : '', expand: h[2] === '', chomp });
        inst.endLine = i;
      }
    }
    out.push(inst);
  }
  return { file, escape, syntax, instructions: out };
}

/** Splits leading --flags and recognises the JSON form. */
export function makeInstruction(cmd: string, args: string, file: string, line: number, endLine = line): Instruction {
  const flags: Flag[] = [];
  let rest = args;
  if (WITH_FLAGS.has(cmd)) {
    for (;;) {
      const fm = /^--([A-Za-z][A-Za-z0-9-]*)(?:=("[^"]*"|\S*))?(?:\s+|$)/.exec(rest);
      if (!fm) break;
      let value = fm[2];
      if (value !== undefined && value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      flags.push({ name: fm[1]!, value });
      rest = rest.slice(fm[0].length);
    }
  }
  return { cmd, line, endLine, args, rest, flags, json: jsonForm(rest), heredocs: [], file };
}

/** The JSON (exec) form of arguments, `["a", "b"]`; undefined for the shell form (not JSON, as Docker treats it). */
export function jsonForm(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The text Docker shows for an instruction (history, progress). */
export function instructionText(i: Instruction): string {
  return `${i.cmd} ${i.args}`.trim();
}
