/** Go's text/template/parse: items → a tree, with Go's error messages. */
import { itemString, lex, type Item, type ItemType } from './lexer.js';
import type { BranchNode, CommandNode, IfNode, ListNode, Node, NumberNode, PipeNode, RangeNode, TemplateNode, VariableNode, WithNode } from './nodes.js';
import { nodeString } from './nodes.js';

/** A template that does not parse; the message is Go's (`template: NAME:LINE: ...`). */
export class TemplateParseError extends Error {
  override name = 'TemplateParseError';
}

interface End { type: 'end'; pos: number }
interface Else { type: 'else'; pos: number; line: number }
type Parsed = Node | End | Else;

export interface Tree {
  name: string;
  text: string;
  root: ListNode;
  /** The templates {{define}} and {{block}} name, by name. */
  defs: Map<string, ListNode>;
}

const OPERAND_START: ItemType[] = ['bool', 'charConstant', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen'];

export function parse(name: string, text: string, hasFunction: (n: string) => boolean): Tree {
  const items = lex(text);
  let i = 0;
  let furthest = 0;
  let vars: string[] = ['$'];
  let rangeDepth = 0;
  let actionLine = 0;

  const errorf = (msg: string): never => {
    const line = items[Math.min(furthest, items.length - 1)]!.line;
    throw new TemplateParseError(`template: ${name}:${line}: ${msg}`);
  };
  const next = (): Item => {
    const it = items[i] ?? items[items.length - 1]!;
    if (i < items.length) i++;
    furthest = Math.max(furthest, i - 1);
    return it;
  };
  const backup = (n = 1) => void (i -= n);
  const peek = (): Item => {
    const it = next();
    backup();
    return it;
  };
  const nextNonSpace = (): Item => {
    let t = next();
    while (t.type === 'space') t = next();
    return t;
  };
  const peekNonSpace = (): Item => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const unexpected = (t: Item, context: string): never => {
    if (t.type === 'error') {
      let extra = '';
      if (actionLine !== 0 && actionLine !== t.line) {
        extra = ` in action started at ${name}:${actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      return errorf(`${t.val}${extra}`);
    }
    return errorf(`unexpected ${itemString(t)} in ${context}`);
  };
  const expect = (type: ItemType, context: string): Item => {
    const t = nextNonSpace();
    if (t.type !== type) unexpected(t, context);
    return t;
  };

  const list = (pos: number): ListNode => ({ type: 'list', pos, nodes: [] });

  function itemList(): { list: ListNode; next: End | Else } {
    const l = list(peekNonSpace().pos);
    while (peekNonSpace().type !== 'eof') {
      const n = textOrAction();
      if (n.type === 'end' || n.type === 'else') return { list: l, next: n };
      l.nodes.push(n);
    }
    return errorf('unexpected EOF');
  }

  function textOrAction(): Parsed {
    const t = nextNonSpace();
    switch (t.type) {
      case 'text':
        return { type: 'text', pos: t.pos, text: t.val };
      case 'leftDelim': {
        actionLine = t.line;
        try {
          return action();
        } finally {
          actionLine = 0;
        }
      }
      default:
        return unexpected(t, 'input');
    }
  }

  function action(): Parsed {
    const t = nextNonSpace();
    switch (t.type) {
      case 'template': {
        const tok = nextNonSpace();
        const tname = templateName(tok, 'template clause');
        let pipe: PipeNode | undefined;
        if (nextNonSpace().type !== 'rightDelim') {
          backup();
          pipe = pipeline('template clause', 'rightDelim');
        }
        return { type: 'template', pos: tok.pos, line: tok.line, name: tname, pipe } satisfies TemplateNode;
      }
      case 'block': {
        const tok = nextNonSpace();
        const tname = templateName(tok, 'block clause');
        const pipe = pipeline('block clause', 'rightDelim');
        defs.set(tname, definitionBody('block clause'));
        return { type: 'template', pos: tok.pos, line: tok.line, name: tname, pipe } satisfies TemplateNode;
      }
      case 'break':
      case 'continue': {
        const tok = nextNonSpace();
        if (tok.type !== 'rightDelim') unexpected(tok, `{{${t.val}}}`);
        if (rangeDepth === 0) errorf(`{{${t.val}}} outside {{range}}`);
        return { type: t.val as 'break' | 'continue', pos: t.pos };
      }
      case 'else': {
        const p = peekNonSpace();
        if (p.type === 'if' || p.type === 'with') return { type: 'else', pos: p.pos, line: p.line };
        const tok = expect('rightDelim', 'else');
        return { type: 'else', pos: tok.pos, line: tok.line };
      }
      case 'end':
        expect('rightDelim', 'end');
        return { type: 'end', pos: t.pos };
      case 'if':
        return control('if');
      case 'range':
        return control('range');
      case 'with':
        return control('with');
    }
    backup();
    const tok = peek();
    return { type: 'action', pos: tok.pos, line: tok.line, pipe: pipeline('command', 'rightDelim') };
  }

  function templateName(t: Item, context: string): string {
    if (t.type !== 'string' && t.type !== 'rawString') return unexpected(t, context);
    return unquote(t.val) ?? errorf('invalid syntax');
  }

  /** The body of a {{define}} or {{block}}, up to its {{end}}, with variables of its own. */
  function definitionBody(context: string): ListNode {
    const saved = vars;
    const savedDepth = rangeDepth;
    vars = ['$'];
    rangeDepth = 0;
    try {
      const r = itemList();
      if (r.next.type !== 'end') errorf(`unexpected {{else}} in ${context}`);
      return r.list;
    } finally {
      vars = saved;
      rangeDepth = savedDepth;
    }
  }

  function control(context: 'if' | 'range' | 'with'): IfNode | RangeNode | WithNode {
    const saved = vars.length;
    try {
      const pipe = pipeline(context, 'rightDelim');
      if (context === 'range') rangeDepth++;
      let r = itemList();
      if (context === 'range') rangeDepth--;
      let elseList: ListNode | undefined;
      if (r.next.type === 'else') {
        if ((context === 'if' && peek().type === 'if') || (context === 'with' && peek().type === 'with')) {
          next();
          elseList = list(r.next.pos);
          elseList.nodes.push(control(context));
        } else {
          r = { list: r.list, next: r.next };
          const e = itemList();
          if (e.next.type !== 'end') errorf(`expected end; found {{else}}`);
          elseList = e.list;
        }
      }
      const b: BranchNode = { pos: pipe.pos, line: pipe.line, pipe, list: r.list, elseList };
      return { ...b, type: context };
    } finally {
      vars = vars.slice(0, saved);
    }
  }

  function pipeline(context: string, end: ItemType): PipeNode {
    const first = peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = peekNonSpace();
      if (v.type !== 'variable') break;
      next();
      const after = peek();
      const n = peekNonSpace();
      if (n.type === 'assign' || n.type === 'declare') {
        pipe.isAssign = n.type === 'assign';
        nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: v.val.split('.') });
        vars.push(v.val);
      } else if (n.type === 'char' && n.val === ',') {
        nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: v.val.split('.') });
        vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = peekNonSpace().type;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue decls;
          errorf('range can only initialize variables');
        }
        errorf(`too many declarations in ${context}`);
      } else if (after.type === 'space') {
        backup(2);
      } else {
        backup();
      }
      break;
    }
    for (;;) {
      const t = nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) errorf(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, k) => {
          if (['bool', 'dot', 'nil', 'number', 'string'].includes(c.args[0]!.type)) errorf(`non executable command in pipeline stage ${k + 2}`);
        });
        return pipe;
      }
      if (OPERAND_START.includes(t.type)) {
        backup();
        pipe.cmds.push(command());
      } else unexpected(t, context);
    }
  }

  function command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const o = operand();
      if (o) cmd.args.push(o);
      const t = next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') backup();
      else if (t.type !== 'pipe') unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) errorf('empty command');
    return cmd;
  }

  function operand(): Node | undefined {
    let node = term();
    if (!node) return undefined;
    if (peek().type === 'field') {
      const pos = peek().pos;
      const fields: string[] = [];
      while (peek().type === 'field') fields.push(next().val.slice(1));
      switch (node.type) {
        case 'field':
          node = { type: 'field', pos, ident: [...node.ident, ...fields] };
          break;
        case 'variable':
          node = { type: 'variable', pos, ident: [...node.ident, ...fields] };
          break;
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          errorf(`unexpected . after term ${JSON.stringify(nodeString(node))}`);
          break;
        default:
          node = { type: 'chain', pos, node, field: fields };
      }
    }
    return node;
  }

  function term(): Node | undefined {
    const t = nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!hasFunction(t.val)) errorf(`function ${JSON.stringify(t.val)} not defined`);
        return { type: 'identifier', pos: t.pos, ident: t.val };
      case 'dot':
        return { type: 'dot', pos: t.pos };
      case 'nil':
        return { type: 'nil', pos: t.pos };
      case 'variable': {
        const ident = t.val.split('.');
        if (!vars.includes(ident[0]!)) errorf(`undefined variable ${JSON.stringify(ident[0])}`);
        return { type: 'variable', pos: t.pos, ident } satisfies VariableNode;
      }
      case 'field':
        return { type: 'field', pos: t.pos, ident: [t.val.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConstant':
      case 'number':
        return number(t);
      case 'leftParen':
        return pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString':
        return { type: 'string', pos: t.pos, quoted: t.val, text: unquote(t.val) ?? errorf(`invalid syntax`) };
    }
    backup();
    return undefined;
  }

  function number(t: Item): NumberNode {
    const n: NumberNode = { type: 'number', pos: t.pos, text: t.val, isInt: false, isFloat: false, int: 0, float: 0, isChar: false };
    if (t.type === 'charConstant') {
      const s = unquote(t.val);
      if (s === undefined || [...s].length !== 1) return errorf(`malformed character constant: ${t.val}`);
      const cp = s.codePointAt(0)!;
      return { ...n, isInt: true, isFloat: true, int: cp, float: cp, isChar: true };
    }
    if (t.val.endsWith('i')) return errorf(`complex numbers are not supported: ${t.val}`);
    const text = t.val.replace(/_/g, '');
    const int = parseGoInt(text);
    if (int !== undefined) return { ...n, isInt: true, isFloat: true, int, float: int };
    if (/^[+-]?(0[xXoObB])?[0-9a-fA-F]+$/.test(text) && !/[.eEpP]/.test(text)) return errorf(`integer overflow: ${JSON.stringify(t.val)}`);
    const f = /^[+-]?0[xX]/.test(text) ? parseHexFloat(text) : Number(text);
    if (!Number.isFinite(f) || text === '' || /^[+-]?$/.test(text)) return errorf(`illegal number syntax: ${JSON.stringify(t.val)}`);
    n.isFloat = true;
    n.float = f;
    if (Number.isInteger(f) && Math.abs(f) <= Number.MAX_SAFE_INTEGER) {
      n.isInt = true;
      n.int = f;
    }
    return n;
  }

  // the top level
  const defs = new Map<string, ListNode>();
  const root = list(peek().pos);
  while (peek().type !== 'eof') {
    if (peek().type === 'leftDelim') {
      const saved = i;
      next();
      if (nextNonSpace().type === 'define') {
        const name = templateName(nextNonSpace(), 'define clause');
        expect('rightDelim', 'define clause');
        defs.set(name, definitionBody('define clause'));
        continue;
      }
      i = saved;
    }
    const n = textOrAction();
    if (n.type === 'end') errorf('unexpected {{end}}');
    else if (n.type === 'else') errorf('unexpected {{else}}');
    else root.nodes.push(n);
  }
  return { name, text, root, defs };
}

function parseGoInt(s: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2]!;
  let v: bigint;
  if (/^0[xXoObB]/.test(body)) v = BigInt(body.toLowerCase());
  else if (body.length > 1 && body.startsWith('0')) v = BigInt('0o' + body.slice(1));
  else v = BigInt(body);
  if (m[1] === '-') v = -v;
  if (v > 9223372036854775807n || v < -9223372036854775808n) return undefined;
  return Number(v);
}

function parseHexFloat(s: string): number {
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (!m) return NaN;
  const mant = parseInt((m[2] || '0') + (m[3] ?? ''), 16) / 16 ** (m[3]?.length ?? 0);
  return (m[1] === '-' ? -1 : 1) * mant * 2 ** Number(m[4]);
}

/** Go's strconv.Unquote for "..." , `...` and '...'. */
export function unquote(q: string): string | undefined {
  if (q.startsWith('`')) return q.slice(1, -1).replace(/\r/g, '');
  const body = q.slice(1, -1);
  let out = '';
  for (let k = 0; k < body.length; k++) {
    const c = body[k]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++k];
    const hex = (n: number) => {
      const h = body.slice(k + 1, k + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) return undefined;
      k += n;
      return parseInt(h, 16);
    };
    switch (e) {
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': if (q[0] !== '"') return undefined; out += '"'; break;
      case "'": if (q[0] !== "'") return undefined; out += "'"; break;
      case 'x': { const v = hex(2); if (v === undefined) return undefined; out += String.fromCharCode(v); break; }
      case 'u': { const v = hex(4); if (v === undefined) return undefined; out += String.fromCodePoint(v); break; }
      case 'U': { const v = hex(8); if (v === undefined || v > 0x10ffff) return undefined; out += String.fromCodePoint(v); break; }
      default:
        if (e !== undefined && e >= '0' && e <= '7') {
          const o = body.slice(k, k + 3);
          if (!/^[0-7]{3}$/.test(o)) return undefined;
          k += 2;
          out += String.fromCharCode(parseInt(o, 8));
          break;
        }
        return undefined;
    }
  }
  return out;
}
