/** The parse tree of a Go template (text/template/parse's node types, as plain data). */

export type Node =
  | ListNode | TextNode | ActionNode | PipeNode | CommandNode | IdentifierNode | VariableNode | DotNode | NilNode
  | FieldNode | ChainNode | BoolNode | NumberNode | StringNode | IfNode | RangeNode | WithNode | BreakNode | ContinueNode | TemplateNode;

interface Base {
  /** Offset in the template text (UTF-16 index). */
  pos: number;
}
export interface ListNode extends Base { type: 'list'; nodes: Node[] }
export interface TextNode extends Base { type: 'text'; text: string }
export interface ActionNode extends Base { type: 'action'; line: number; pipe: PipeNode }
export interface PipeNode extends Base { type: 'pipe'; line: number; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[] }
export interface CommandNode extends Base { type: 'command'; args: Node[] }
export interface IdentifierNode extends Base { type: 'identifier'; ident: string }
export interface VariableNode extends Base { type: 'variable'; ident: string[] }
export interface DotNode extends Base { type: 'dot' }
export interface NilNode extends Base { type: 'nil' }
export interface FieldNode extends Base { type: 'field'; ident: string[] }
export interface ChainNode extends Base { type: 'chain'; node: Node; field: string[] }
export interface BoolNode extends Base { type: 'bool'; value: boolean }
export interface NumberNode extends Base {
  type: 'number';
  text: string;
  isInt: boolean;
  isFloat: boolean;
  int: number;
  float: number;
  /** A character constant ('a'): an int, never a float. */
  isChar: boolean;
}
export interface StringNode extends Base { type: 'string'; quoted: string; text: string }
export interface BranchNode extends Base { line: number; pipe: PipeNode; list: ListNode; elseList: ListNode | undefined }
export interface IfNode extends BranchNode { type: 'if' }
export interface RangeNode extends BranchNode { type: 'range' }
export interface WithNode extends BranchNode { type: 'with' }
export interface BreakNode extends Base { type: 'break' }
/** {{template "name" pipeline}} (also what {{block}} leaves in place). */
export interface TemplateNode extends Base { type: 'template'; line: number; name: string; pipe: PipeNode | undefined }
export interface ContinueNode extends Base { type: 'continue' }

/** Go's Node.String(): the node as template text (used in error messages). */
export function nodeString(n: Node): string {
  switch (n.type) {
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'text':
      return n.text;
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'pipe': {
      let s = '';
      if (n.decl.length) s = n.decl.map(nodeString).join(', ') + (n.isAssign ? ' = ' : ' := ');
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'identifier':
      return n.ident;
    case 'variable':
      return n.ident.join('.');
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'field':
      return n.ident.map((f) => '.' + f).join('');
    case 'chain':
      return (n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.field.map((f) => '.' + f).join('');
    case 'bool':
      return String(n.value);
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'if':
    case 'range':
    case 'with':
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${n.elseList ? `{{else}}${nodeString(n.elseList)}` : ''}{{end}}`;
    case 'template':
      return n.pipe ? `{{template ${JSON.stringify(n.name)} ${nodeString(n.pipe)}}}` : `{{template ${JSON.stringify(n.name)}}}`;
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
  }
}
