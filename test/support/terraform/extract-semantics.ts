/**
 * Generates provider-semantics.json: what the DigitalOcean Terraform provider does with each
 * attribute (required/optional/computed, ForceNew, defaults, validators, diff suppressors, state
 * functions) and, for the resources this package deploys, the behaviour that lives in code rather
 * than in schema data (CustomizeDiff, checks in Create/Update, what Read normalises, imports).
 *
 * The provider stand-in used by the tests takes its wire schema from the cdktf bindings; this file
 * is where its semantics come from. The data is read out of the provider's Go source at the tag the
 * bindings were generated from, so that when the bindings move to a new provider version the data
 * is regenerated instead of being remembered.
 *
 *   npx ts-node --transpile-only test/support/terraform/extract-semantics.ts <source dir> <tag> <commit>
 *
 * <source dir> is an extracted tree of github.com/digitalocean/terraform-provider-digitalocean at
 * <tag> (`git archive <tag> | tar -x -C <dir>`); <commit> is the commit the tag points at and is
 * only recorded. No Go toolchain is needed: a small tokenizer and parser read the Go files, and a
 * tiny interpreter evaluates the schema-building functions (map literals, helper calls, the few
 * statements data sources use to adjust a shared schema). Anything outside that subset makes the
 * extraction of that resource fail; for the resources listed in REQUIRED_* that fails the run.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';

const REPOSITORY = 'digitalocean/terraform-provider-digitalocean';
const MODULE = 'github.com/digitalocean/terraform-provider-digitalocean';
const OUTPUT = path.join(__dirname, 'provider-semantics.json');

/** Resources the package deploys; each must extract completely and has hand-written rules below. */
export const REQUIRED_RESOURCES = [
  'digitalocean_domain',
  'digitalocean_record',
  'digitalocean_droplet',
  'digitalocean_volume',
  'digitalocean_volume_attachment',
  'digitalocean_reserved_ip',
  'digitalocean_reserved_ip_assignment',
  'digitalocean_reserved_ipv6',
  'digitalocean_reserved_ipv6_assignment',
  'digitalocean_firewall',
  'digitalocean_project_resources',
  'digitalocean_spaces_bucket',
  'digitalocean_spaces_key',
  'digitalocean_spaces_bucket_object',
  'digitalocean_uptime_check',
  'digitalocean_uptime_alert',
  'digitalocean_monitor_alert',
  'digitalocean_ssh_key',
  'digitalocean_tag',
] as const;

/** Data sources the package may read; each must extract completely. */
export const REQUIRED_DATA_SOURCES = ['digitalocean_domain', 'digitalocean_record', 'digitalocean_records', 'digitalocean_droplet'] as const;

// ───────────────────────────── output shape ─────────────────────────────

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };

type Validator =
  | { kind: 'oneOf'; values: (string | number)[]; ignoreCase: boolean }
  | { kind: 'intBetween'; min: number; max: number }
  | { kind: 'intAtLeast'; min: number }
  | { kind: 'intAtMost'; max: number }
  // TypeFloat validators; monitor_alert's `value` uses FloatAtLeast, and squeezing it into an int kind would lie.
  | { kind: 'floatBetween'; min: number; max: number }
  | { kind: 'floatAtLeast'; min: number }
  | { kind: 'notEmpty' }
  | { kind: 'noZeroValues' }
  | { kind: 'isIPv4' }
  | { kind: 'isIPv6' }
  | { kind: 'isIP' }
  | { kind: 'stringLenBetween'; min: number; max: number }
  | { kind: 'regex'; pattern: string; message: string }
  | { kind: 'unresolved'; text: string };

/** Provider-level only: SDK v2 treats a Required attribute whose DefaultFunc yields a value as optional. */
type DefaultFunc = { kind: 'env'; vars: string[]; default: Json } | { kind: 'unresolved'; text: string };

interface Attribute {
  type: 'string' | 'number' | 'bool' | 'list' | 'set' | 'map';
  elem?: 'string' | 'number' | 'bool' | 'resource';
  required?: true;
  optional?: true;
  computed?: true;
  forceNew?: true;
  sensitive?: true;
  default?: Json;
  defaultFunc?: DefaultFunc;
  maxItems?: number;
  minItems?: number;
  configModeAttr?: true;
  /** For a list/set/map of primitives these are the element's validators (SDK v2 only runs ValidateFunc on primitives). */
  validate?: Validator[];
  diffSuppress?: string;
  stateFunc?: string;
  conflictsWith?: string[];
  exactlyOneOf?: string[];
  atLeastOneOf?: string[];
  requiredWith?: string[];
  attributes?: Record<string, Attribute>;
}

type RuleKind =
  | 'customizeDiff'
  | 'validate-in-create'
  | 'read-normalization'
  | 'force-new-if'
  | 'import'
  // Beyond the kinds above: what Create sends and waits for, what Update does for a change (a
  // resize, an action, or nothing at all), what Delete does first, what a DiffSuppressFunc or set
  // hash hides from the plan, and config checks made by code the `validate` data cannot express.
  | 'create'
  | 'update'
  | 'delete'
  | 'diff-suppress'
  | 'validate';

interface Rule {
  id: string;
  kind: RuleKind;
  summary: string;
  where: string;
}

interface ResourceOut {
  file: string;
  schemaVersion: number;
  attributes: Record<string, Attribute>;
  rules: Rule[];
}

// ───────────────────────────── tokenizer ─────────────────────────────

type TokKind = 'ident' | 'keyword' | 'int' | 'float' | 'imag' | 'string' | 'char' | 'op' | 'eof';

interface Token {
  kind: TokKind;
  /** Operator/identifier text, or the decoded value of a string/char literal. */
  value: string;
  start: number;
  end: number;
  line: number;
  /** A `;` inserted by Go's automatic semicolon rule rather than written. */
  auto?: boolean;
}

const KEYWORDS = new Set([
  'break', 'case', 'chan', 'const', 'continue', 'default', 'defer', 'else', 'fallthrough', 'for', 'func', 'go', 'goto',
  'if', 'import', 'interface', 'map', 'package', 'range', 'return', 'select', 'struct', 'switch', 'type', 'var',
]);

const OPERATORS = [
  '<<=', '>>=', '&^=', '...', '&&', '||', '<-', '++', '--', '==', '!=', '<=', '>=', ':=', '+=', '-=', '*=', '/=', '%=',
  '&=', '|=', '^=', '<<', '>>', '&^', '+', '-', '*', '/', '%', '&', '|', '^', '<', '>', '=', '!', '(', ')', '[', ']',
  '{', '}', ',', ';', '.', ':', '~',
];

const NUMBER = /^(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)i?/;

class GoSyntaxError extends Error {}

function decodeEscapes(body: string, quote: string, where: () => string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
    if (n in simple) out += simple[n];
    else if (n === quote) out += quote;
    else if (n === 'x') { out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16)); i += 2; }
    else if (n === 'u') { out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16)); i += 4; }
    else if (n === 'U') { out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16)); i += 8; }
    else if (n >= '0' && n <= '7') { out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8)); i += 2; }
    else throw new GoSyntaxError(`unknown escape \\${n} at ${where()}`);
  }
  return out;
}

/** Go tokens with automatic semicolons, comments dropped. */
function tokenize(src: string, file: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  let line = 1;
  const where = () => `${file}:${line}`;
  const needsSemi = () => {
    const last = toks[toks.length - 1];
    if (!last || (last.kind === 'op' && last.value === ';')) return false;
    if (last.kind === 'ident' || last.kind === 'int' || last.kind === 'float' || last.kind === 'imag' || last.kind === 'string' || last.kind === 'char') return true;
    if (last.kind === 'keyword') return ['break', 'continue', 'fallthrough', 'return'].includes(last.value);
    return last.kind === 'op' && [')', ']', '}', '++', '--'].includes(last.value);
  };
  const semi = () => toks.push({ kind: 'op', value: ';', start: i, end: i, line, auto: true });
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') {
      if (needsSemi()) semi();
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (src.startsWith('//', i)) {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl;
      continue;
    }
    if (src.startsWith('/*', i)) {
      const close = src.indexOf('*/', i + 2);
      if (close < 0) throw new GoSyntaxError(`unterminated comment at ${where()}`);
      const body = src.slice(i, close + 2);
      const newlines = body.split('\n').length - 1;
      // A comment containing a newline acts like a newline.
      if (newlines > 0 && needsSemi()) semi();
      line += newlines;
      i = close + 2;
      continue;
    }
    const start = i;
    const startLine = line;
    if (/[A-Za-z_\u00c0-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_\u00c0-\uffff]/.test(src[j])) j++;
      const word = src.slice(i, j);
      toks.push({ kind: KEYWORDS.has(word) ? 'keyword' : 'ident', value: word, start, end: j, line });
      i = j;
      continue;
    }
    const num = /[0-9.]/.test(c) ? NUMBER.exec(src.slice(i, i + 64)) : null;
    if (num && num[0] !== '.' && !(c === '.' && !/[0-9]/.test(src[i + 1] ?? ''))) {
      const text = num[0];
      const kind: TokKind = text.endsWith('i') && !/^0[xX]/.test(text) ? 'imag' : /^0[xX]/.test(text) ? 'int' : /[.eE]/.test(text) ? 'float' : 'int';
      toks.push({ kind, value: text.replace(/_/g, ''), start, end: i + text.length, line });
      i += text.length;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        if (src[j] === '\n') throw new GoSyntaxError(`newline in string at ${where()}`);
        j++;
      }
      toks.push({ kind: 'string', value: decodeEscapes(src.slice(i + 1, j), '"', where), start, end: j + 1, line });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const close = src.indexOf('`', i + 1);
      if (close < 0) throw new GoSyntaxError(`unterminated raw string at ${where()}`);
      const body = src.slice(i + 1, close);
      toks.push({ kind: 'string', value: body.replace(/\r/g, ''), start, end: close + 1, line: startLine });
      line += body.split('\n').length - 1;
      i = close + 1;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== "'") {
        if (src[j] === '\\') j++;
        j++;
      }
      toks.push({ kind: 'char', value: decodeEscapes(src.slice(i + 1, j), "'", where), start, end: j + 1, line });
      i = j + 1;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new GoSyntaxError(`unexpected character ${JSON.stringify(c)} at ${where()}`);
    toks.push({ kind: 'op', value: op, start, end: i + op.length, line });
    i += op.length;
  }
  if (needsSemi()) semi();
  toks.push({ kind: 'eof', value: '', start: src.length, end: src.length, line });
  return toks;
}

// ───────────────────────────── syntax tree ─────────────────────────────

interface Span {
  start: number;
  end: number;
  line: number;
}

type GoType =
  | { k: 'name'; name: string }
  | { k: 'ptr'; elem: GoType }
  | { k: 'slice'; elem: GoType }
  | { k: 'array'; elem: GoType }
  | { k: 'map'; key: GoType; value: GoType }
  | { k: 'other'; text: string };

type Expr = Span &
  (
    | { t: 'ident'; name: string }
    | { t: 'lit'; kind: 'string' | 'int' | 'float' | 'imag' | 'char'; value: string }
    | { t: 'composite'; type: GoType | null; elems: { key?: Expr; value: Expr }[] }
    | { t: 'funclit' }
    | { t: 'call'; fn: Expr; args: Expr[] }
    | { t: 'selector'; x: Expr; sel: string }
    | { t: 'index'; x: Expr; index: Expr }
    | { t: 'slice'; x: Expr; lo?: Expr; hi?: Expr }
    | { t: 'assert'; x: Expr }
    | { t: 'unary'; op: string; x: Expr }
    | { t: 'binary'; op: string; x: Expr; y: Expr }
    | { t: 'paren'; x: Expr }
    | { t: 'type'; type: GoType }
    | { t: 'range'; x: Expr }
  );

type Stmt = Span &
  (
    | { t: 'return'; results: Expr[] }
    | { t: 'assign'; op: string; lhs: Expr[]; rhs: Expr[] }
    | { t: 'expr'; x: Expr }
    | { t: 'incdec'; op: string; x: Expr }
    | { t: 'var'; names: string[]; values: Expr[] }
    | { t: 'if'; init?: Stmt; cond: Expr; then: Stmt[]; else?: Stmt[] }
    | { t: 'range'; key?: Expr; value?: Expr; define: boolean; x: Expr; body: Stmt[] }
    | { t: 'block'; body: Stmt[] }
    | { t: 'unsupported'; what: string }
  );

interface FuncDecl {
  name: string;
  params: string[];
  bodyStart: number;
  bodyEnd: number;
  file: GoFile;
  line: number;
  body?: Stmt[];
}

interface ValueDecl {
  name: string;
  /** Token range of the initialising expression; parsed on first use. */
  exprStart: number;
  file: GoFile;
  index: number;
  parsed?: Expr;
}

interface GoFile {
  rel: string;
  src: string;
  toks: Token[];
  imports: Map<string, string>;
  pkg: GoPackage;
}

interface GoPackage {
  importPath: string;
  name: string;
  funcs: Map<string, FuncDecl>;
  values: Map<string, ValueDecl>;
  valueCache: Map<string, Value>;
}

const BINARY_PRECEDENCE: Record<string, number> = {
  '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3, '+': 4, '-': 4, '|': 4, '^': 4,
  '*': 5, '/': 5, '%': 5, '<<': 5, '>>': 5, '&': 5, '&^': 5,
};

class Parser {
  i: number;
  constructor(readonly file: GoFile, start = 0) {
    this.i = start;
  }
  get tok(): Token {
    return this.file.toks[this.i];
  }
  peek(n = 1): Token {
    return this.file.toks[Math.min(this.i + n, this.file.toks.length - 1)];
  }
  is(value: string, kind?: TokKind): boolean {
    const t = this.tok;
    return t.value === value && (kind ? t.kind === kind : t.kind === 'op' || t.kind === 'keyword');
  }
  fail(what: string): never {
    throw new GoSyntaxError(`${what} at ${this.file.rel}:${this.tok.line} (found ${JSON.stringify(this.tok.value)})`);
  }
  expect(value: string): Token {
    if (!this.is(value)) this.fail(`expected ${value}`);
    return this.file.toks[this.i++];
  }
  accept(value: string): boolean {
    if (this.is(value)) {
      this.i++;
      return true;
    }
    return false;
  }
  ident(): string {
    if (this.tok.kind !== 'ident') this.fail('expected identifier');
    return this.file.toks[this.i++].value;
  }
  /** Skips a balanced (), [] or {} group starting at the current token. */
  skipGroup(): void {
    const open = this.tok.value;
    const close = ({ '(': ')', '[': ']', '{': '}' } as Record<string, string>)[open];
    if (!close) this.fail('expected a bracket');
    let depth = 0;
    for (;;) {
      const t = this.tok;
      if (t.kind === 'eof') this.fail(`unbalanced ${open}`);
      if (t.kind === 'op' && (t.value === '(' || t.value === '[' || t.value === '{')) depth++;
      if (t.kind === 'op' && (t.value === ')' || t.value === ']' || t.value === '}')) depth--;
      this.i++;
      if (depth === 0) return;
    }
  }
  span(startTok: Token): Span {
    const last = this.file.toks[this.i - 1];
    return { start: startTok.start, end: last.end, line: startTok.line };
  }

  // ── types ──
  startsType(): boolean {
    const t = this.tok;
    if (t.kind === 'ident') return true;
    if (t.kind === 'keyword') return ['map', 'func', 'struct', 'interface', 'chan'].includes(t.value);
    return t.kind === 'op' && ['*', '[', '('].includes(t.value);
  }
  parseType(): GoType {
    const startTok = this.tok;
    if (this.accept('*')) return { k: 'ptr', elem: this.parseType() };
    if (this.is('[')) {
      this.i++;
      if (this.accept(']')) return { k: 'slice', elem: this.parseType() };
      while (!this.is(']')) {
        if (this.tok.kind === 'eof') this.fail('unterminated array type');
        this.i++;
      }
      this.i++;
      return { k: 'array', elem: this.parseType() };
    }
    if (this.accept('map')) {
      this.expect('[');
      const key = this.parseType();
      this.expect(']');
      return { k: 'map', key, value: this.parseType() };
    }
    if (this.is('func')) {
      this.i++;
      this.skipSignature();
      return { k: 'other', text: this.text(startTok) };
    }
    if (this.is('struct') || this.is('interface')) {
      this.i++;
      this.skipGroup();
      return { k: 'other', text: this.text(startTok) };
    }
    if (this.accept('chan')) {
      this.accept('<-');
      this.parseType();
      return { k: 'other', text: this.text(startTok) };
    }
    if (this.is('<-')) {
      this.i++;
      this.expect('chan');
      this.parseType();
      return { k: 'other', text: this.text(startTok) };
    }
    if (this.accept('(')) {
      const inner = this.parseType();
      this.expect(')');
      return inner;
    }
    let name = this.ident();
    if (this.is('.') && this.peek().kind === 'ident') {
      this.i++;
      name += '.' + this.ident();
    }
    if (this.is('[')) this.skipGroup(); // generic instantiation
    return { k: 'name', name };
  }
  text(startTok: Token): string {
    return this.file.src.slice(startTok.start, this.file.toks[this.i - 1].end);
  }
  /** Parameters and results of a func type or literal; only their extent matters here. */
  skipSignature(): void {
    if (this.is('[')) this.skipGroup();
    this.skipGroup();
    if (this.is('(')) this.skipGroup();
    else if (this.startsType() && !this.is('{')) this.parseType();
  }

  // ── expressions ──
  parseExprList(noLit: boolean): Expr[] {
    const out = [this.parseExpr(noLit)];
    while (this.accept(',')) out.push(this.parseExpr(noLit));
    return out;
  }
  parseExpr(noLit = false, minPrec = 1): Expr {
    let x = this.parseUnary(noLit);
    for (;;) {
      const t = this.tok;
      const prec = t.kind === 'op' ? BINARY_PRECEDENCE[t.value] : undefined;
      if (prec === undefined || prec < minPrec) return x;
      this.i++;
      const y = this.parseExpr(noLit, prec + 1);
      x = { t: 'binary', op: t.value, x, y, start: x.start, end: y.end, line: x.line };
    }
  }
  parseUnary(noLit: boolean): Expr {
    const t = this.tok;
    if (t.kind === 'op' && ['+', '-', '!', '^', '*', '&', '<-', '~'].includes(t.value)) {
      this.i++;
      const x = this.parseUnary(noLit);
      return { t: 'unary', op: t.value, x, start: t.start, end: x.end, line: t.line };
    }
    return this.parsePrimary(noLit);
  }
  parseOperand(noLit: boolean): Expr {
    const t = this.tok;
    if (t.kind === 'int' || t.kind === 'float' || t.kind === 'imag' || t.kind === 'string' || t.kind === 'char') {
      this.i++;
      return { t: 'lit', kind: t.kind, value: t.value, start: t.start, end: t.end, line: t.line };
    }
    if (t.kind === 'ident') {
      this.i++;
      return { t: 'ident', name: t.value, start: t.start, end: t.end, line: t.line };
    }
    if (this.is('(')) {
      this.i++;
      const x = this.parseExprOrType();
      this.expect(')');
      return { t: 'paren', x, ...this.span(t) };
    }
    if (this.is('func')) {
      this.i++;
      this.skipSignature();
      if (this.is('{')) {
        this.skipGroup();
        return { t: 'funclit', ...this.span(t) };
      }
      return { t: 'type', type: { k: 'other', text: this.text(t) }, ...this.span(t) };
    }
    if (this.is('[') || this.is('map') || this.is('struct') || this.is('interface') || this.is('chan') || this.is('*')) {
      const type = this.parseType();
      return { t: 'type', type, ...this.span(t) };
    }
    return this.fail(noLit ? 'expected operand' : 'expected expression');
  }
  /** Inside parentheses a type (as in a conversion) is as good as an expression. */
  parseExprOrType(): Expr {
    if (this.is('*') || this.is('[') || this.is('map') || this.is('chan') || this.is('func') || this.is('struct') || this.is('interface')) {
      const save = this.i;
      try {
        return this.parseExpr(false);
      } catch (e) {
        if (!(e instanceof GoSyntaxError)) throw e;
        this.i = save;
        const t = this.tok;
        const type = this.parseType();
        return { t: 'type', type, ...this.span(t) };
      }
    }
    return this.parseExpr(false);
  }
  parsePrimary(noLit: boolean): Expr {
    let x = this.parseOperand(noLit);
    for (;;) {
      if (this.is('.')) {
        this.i++;
        if (this.accept('(')) {
          if (!this.accept('type')) this.parseType();
          this.expect(')');
          x = { t: 'assert', x, start: x.start, end: this.file.toks[this.i - 1].end, line: x.line };
          continue;
        }
        const sel = this.ident();
        x = { t: 'selector', x, sel, start: x.start, end: this.file.toks[this.i - 1].end, line: x.line };
        continue;
      }
      if (this.is('[')) {
        this.i++;
        let lo: Expr | undefined;
        if (!this.is(':')) lo = this.parseExprOrType();
        if (this.accept(':')) {
          let hi: Expr | undefined;
          if (!this.is(']')) hi = this.parseExpr(false);
          if (this.accept(':')) this.parseExpr(false);
          this.expect(']');
          x = { t: 'slice', x, lo, hi, start: x.start, end: this.file.toks[this.i - 1].end, line: x.line };
          continue;
        }
        while (this.accept(',')) this.parseExprOrType(); // generic instantiation with several arguments
        this.expect(']');
        x = { t: 'index', x, index: lo as Expr, start: x.start, end: this.file.toks[this.i - 1].end, line: x.line };
        continue;
      }
      if (this.is('(')) {
        this.i++;
        const args: Expr[] = [];
        while (!this.is(')')) {
          args.push(this.parseExprOrType());
          this.accept('...');
          if (!this.accept(',')) break;
        }
        this.expect(')');
        x = { t: 'call', fn: x, args, start: x.start, end: this.file.toks[this.i - 1].end, line: x.line };
        continue;
      }
      if (this.is('{') && this.isLiteralType(x, noLit)) {
        const type = x.t === 'type' ? x.type : exprAsType(x);
        x = this.parseCompositeBody(type, x);
        continue;
      }
      return x;
    }
  }
  isLiteralType(x: Expr, noLit: boolean): boolean {
    if (x.t === 'type') return x.type.k !== 'other' || x.type.text.startsWith('struct');
    if (noLit) return false;
    return x.t === 'ident' || (x.t === 'selector' && x.x.t === 'ident') || x.t === 'index';
  }
  parseCompositeBody(type: GoType | null, startExpr: Span | null): Expr {
    const open = this.expect('{');
    const elems: { key?: Expr; value: Expr }[] = [];
    while (!this.is('}')) {
      let value = this.parseElement();
      let key: Expr | undefined;
      if (this.accept(':')) {
        key = value;
        value = this.parseElement();
      }
      elems.push({ key, value });
      if (!this.accept(',')) break;
    }
    const close = this.expect('}');
    const start = startExpr ?? { start: open.start, line: open.line };
    return { t: 'composite', type, elems, start: start.start, end: close.end, line: start.line };
  }
  parseElement(): Expr {
    if (this.is('{')) return this.parseCompositeBody(null, null);
    return this.parseExpr(false);
  }

  // ── statements ──
  parseBlock(): Stmt[] {
    this.expect('{');
    const out: Stmt[] = [];
    while (!this.is('}')) {
      if (this.accept(';')) continue;
      out.push(this.parseStmt());
      if (!this.is('}')) this.expect(';');
    }
    this.expect('}');
    return out;
  }
  parseStmt(): Stmt {
    const t = this.tok;
    if (t.kind === 'keyword') {
      switch (t.value) {
        case 'return': {
          this.i++;
          const results = this.is(';') || this.is('}') ? [] : this.parseExprList(false);
          return { t: 'return', results, ...this.span(t) };
        }
        case 'if':
          return this.parseIf();
        case 'for':
          return this.parseFor();
        case 'var':
        case 'const':
          return this.parseVarStmt();
        case 'switch':
        case 'select':
        case 'type':
        case 'goto':
        case 'break':
        case 'continue':
        case 'fallthrough':
        case 'defer':
        case 'go': {
          // Not needed by any schema-building function; skipped so the rest of the body still parses.
          this.i++;
          while (!this.is(';') && !this.is('}')) {
            if (this.is('{') || this.is('(') || this.is('[')) this.skipGroup();
            else this.i++;
          }
          return { t: 'unsupported', what: t.value, ...this.span(t) };
        }
      }
    }
    if (this.is('{')) {
      const body = this.parseBlock();
      return { t: 'block', body, ...this.span(t) };
    }
    if (t.kind === 'ident' && this.peek().value === ':' && this.peek().kind === 'op') {
      this.i += 2;
      return this.parseStmt();
    }
    return this.parseSimpleStmt(false);
  }
  parseSimpleStmt(noLit: boolean): Stmt {
    const t = this.tok;
    if (this.is('range')) {
      this.i++;
      const x = this.parseExpr(noLit);
      return { t: 'assign', op: '=', lhs: [], rhs: [{ t: 'range', x, start: t.start, end: x.end, line: t.line }], ...this.span(t) };
    }
    const lhs = this.parseExprList(noLit);
    const op = this.tok;
    if (op.kind === 'op' && (op.value === ':=' || op.value === '=' || (op.value.endsWith('=') && op.value.length >= 2 && !['==', '!=', '<=', '>='].includes(op.value)))) {
      this.i++;
      if (this.is('range')) {
        const r = this.tok;
        this.i++;
        const x = this.parseExpr(noLit);
        return { t: 'assign', op: op.value, lhs, rhs: [{ t: 'range', x, start: r.start, end: x.end, line: r.line }], ...this.span(t) };
      }
      const rhs = this.parseExprList(noLit);
      return { t: 'assign', op: op.value, lhs, rhs, ...this.span(t) };
    }
    if (op.kind === 'op' && (op.value === '++' || op.value === '--')) {
      this.i++;
      return { t: 'incdec', op: op.value, x: lhs[0], ...this.span(t) };
    }
    if (op.kind === 'op' && op.value === '<-') {
      this.i++;
      this.parseExpr(noLit);
      return { t: 'unsupported', what: 'send', ...this.span(t) };
    }
    return { t: 'expr', x: lhs[0], ...this.span(t) };
  }
  parseIf(): Stmt {
    const t = this.expect('if');
    let init: Stmt | undefined;
    let first = this.parseSimpleStmt(true);
    if (this.accept(';')) {
      init = first;
      first = this.parseSimpleStmt(true);
    }
    if (first.t !== 'expr') this.fail('expected if condition');
    const then = this.parseBlock();
    let elseBody: Stmt[] | undefined;
    if (this.accept('else')) elseBody = this.is('if') ? [this.parseIf()] : this.parseBlock();
    return { t: 'if', init, cond: first.x, then, else: elseBody, ...this.span(t) };
  }
  parseFor(): Stmt {
    const t = this.expect('for');
    if (this.is('{')) {
      this.skipGroup();
      return { t: 'unsupported', what: 'for', ...this.span(t) };
    }
    const header = this.parseSimpleStmt(true);
    if (header.t === 'assign' && header.rhs.length === 1 && header.rhs[0].t === 'range') {
      const body = this.parseBlock();
      return { t: 'range', key: header.lhs[0], value: header.lhs[1], define: header.op === ':=', x: header.rhs[0].x, body, ...this.span(t) };
    }
    while (!this.is('{')) {
      if (this.tok.kind === 'eof') this.fail('unterminated for');
      if (this.is('(') || this.is('[')) this.skipGroup();
      else this.i++;
    }
    this.skipGroup();
    return { t: 'unsupported', what: 'for', ...this.span(t) };
  }
  parseVarStmt(): Stmt {
    const t = this.tok;
    this.i++;
    const specs: Stmt[] = [];
    const one = () => {
      const names = [this.ident()];
      while (this.accept(',')) names.push(this.ident());
      if (!this.is('=') && !this.is(';') && !this.is(')')) this.parseType();
      const values = this.accept('=') ? this.parseExprList(false) : [];
      specs.push({ t: 'var', names, values, ...this.span(t) });
    };
    if (this.accept('(')) {
      while (!this.is(')')) {
        if (this.accept(';')) continue;
        one();
      }
      this.expect(')');
    } else one();
    return specs.length === 1 ? specs[0] : { t: 'block', body: specs, ...this.span(t) };
  }
}

function exprAsType(x: Expr): GoType {
  if (x.t === 'ident') return { k: 'name', name: x.name };
  if (x.t === 'selector' && x.x.t === 'ident') return { k: 'name', name: `${x.x.name}.${x.sel}` };
  return { k: 'other', text: '?' };
}

function typeText(t: GoType | null): string {
  if (!t) return '?';
  switch (t.k) {
    case 'name':
      return t.name;
    case 'ptr':
      return '*' + typeText(t.elem);
    case 'slice':
      return '[]' + typeText(t.elem);
    case 'array':
      return '[n]' + typeText(t.elem);
    case 'map':
      return `map[${typeText(t.key)}]${typeText(t.value)}`;
    case 'other':
      return t.text;
  }
}

function derefType(t: GoType | null): GoType | null {
  return t && t.k === 'ptr' ? t.elem : t;
}

// ───────────────────────────── packages ─────────────────────────────

class SourceTree {
  private packages = new Map<string, GoPackage>();
  constructor(readonly root: string) {}

  dirFor(importPath: string): string | undefined {
    if (importPath === MODULE) return this.root;
    if (importPath.startsWith(MODULE + '/')) return path.join(this.root, importPath.slice(MODULE.length + 1));
    const vendored = path.join(this.root, 'vendor', importPath);
    return existsSync(vendored) ? vendored : undefined;
  }

  isProviderPackage(importPath: string): boolean {
    return importPath === MODULE || importPath.startsWith(MODULE + '/');
  }

  load(importPath: string): GoPackage | undefined {
    const cached = this.packages.get(importPath);
    if (cached) return cached;
    const dir = this.dirFor(importPath);
    if (!dir || !existsSync(dir)) return undefined;
    const pkg: GoPackage = { importPath, name: '', funcs: new Map(), values: new Map(), valueCache: new Map() };
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.go') || name.endsWith('_test.go')) continue;
      const full = path.join(dir, name);
      const src = readFileSync(full, 'utf8');
      const file: GoFile = { rel: path.relative(this.root, full), src, toks: tokenize(src, path.relative(this.root, full)), imports: new Map(), pkg };
      readTopLevel(file);
    }
    this.packages.set(importPath, pkg);
    return pkg;
  }
}

function packageNameOf(importPath: string): string {
  const parts = importPath.split('/');
  const last = parts[parts.length - 1];
  return /^v\d+$/.test(last) && parts.length > 1 ? parts[parts.length - 2] : last;
}

/** Records a file's imports, functions, constants and variables; bodies and initialisers stay unparsed. */
function readTopLevel(file: GoFile): void {
  const p = new Parser(file);
  p.expect('package');
  file.pkg.name = p.ident();
  p.accept(';');
  while (p.tok.kind !== 'eof') {
    if (p.accept(';')) continue;
    if (p.accept('import')) {
      const spec = () => {
        let alias: string | undefined;
        if (p.tok.kind === 'ident') alias = p.ident();
        else if (p.accept('.')) alias = '.';
        if (p.tok.kind !== 'string') p.fail('expected import path');
        const importPath = p.tok.value;
        p.i++;
        file.imports.set(alias ?? packageNameOf(importPath), importPath);
      };
      if (p.accept('(')) {
        while (!p.is(')')) {
          if (p.accept(';')) continue;
          spec();
        }
        p.expect(')');
      } else spec();
      continue;
    }
    if (p.is('func')) {
      const funcTok = p.tok;
      p.i++;
      const isMethod = p.is('(');
      if (isMethod) p.skipGroup();
      const name = p.ident();
      if (p.is('[')) p.skipGroup();
      const params = readParamNames(p);
      if (p.is('(')) p.skipGroup();
      else if (!p.is('{') && !p.is(';')) p.parseType();
      if (p.is('{')) {
        const bodyStart = p.i;
        p.skipGroup();
        if (!isMethod) file.pkg.funcs.set(name, { name, params, bodyStart, bodyEnd: p.i, file, line: funcTok.line });
      }
      continue;
    }
    if (p.is('var') || p.is('const')) {
      p.i++;
      const spec = () => {
        const names = [p.ident()];
        while (p.accept(',')) names.push(p.ident());
        if (!p.is('=') && !p.is(';') && !p.is(')')) p.parseType();
        if (p.accept('=')) {
          for (let n = 0; n < names.length; n++) {
            const exprStart = p.i;
            p.parseExpr(false);
            file.pkg.values.set(names[n], { name: names[n], exprStart, file, index: n });
            if (n < names.length - 1) p.expect(',');
          }
        }
        // A const without "=" repeats the previous expression (iota); those are never schema data here.
      };
      if (p.accept('(')) {
        while (!p.is(')')) {
          if (p.accept(';')) continue;
          spec();
          if (!p.is(')')) p.expect(';');
        }
        p.expect(')');
      } else spec();
      continue;
    }
    if (p.accept('type')) {
      const skipSpec = () => {
        while (!p.is(';') && !p.is(')')) {
          if (p.is('{') || p.is('(') || p.is('[')) p.skipGroup();
          else p.i++;
        }
      };
      if (p.accept('(')) {
        while (!p.is(')')) {
          if (p.accept(';')) continue;
          skipSpec();
        }
        p.expect(')');
      } else skipSpec();
      continue;
    }
    p.fail('unexpected top-level token');
  }
}

function readParamNames(p: Parser): string[] {
  p.expect('(');
  const groups: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  while (!(depth === 0 && p.is(')'))) {
    const t = p.tok;
    if (t.kind === 'eof') p.fail('unterminated parameters');
    if (t.kind === 'op' && ['(', '[', '{'].includes(t.value)) depth++;
    if (t.kind === 'op' && [')', ']', '}'].includes(t.value)) depth--;
    if (depth === 0 && t.kind === 'op' && t.value === ',') {
      groups.push(current);
      current = [];
    } else current.push(t);
    p.i++;
  }
  p.expect(')');
  if (current.length) groups.push(current);
  // `a, b string, c int`: a lone identifier is a name when some later group is "name Type".
  const named = groups.some((g) => g.length >= 2 && g[0].kind === 'ident' && !(g[1].kind === 'op' && g[1].value === '.'));
  if (!named) return groups.map(() => '_');
  return groups.map((g) => g[0].value);
}

function parseFuncBody(fn: FuncDecl): Stmt[] {
  if (!fn.body) {
    const p = new Parser(fn.file, fn.bodyStart);
    fn.body = p.parseBlock();
  }
  return fn.body;
}

function declExpr(decl: ValueDecl): Expr {
  if (!decl.parsed) decl.parsed = new Parser(decl.file, decl.exprStart).parseExpr(false);
  return decl.parsed;
}

// ───────────────────────────── interpreter ─────────────────────────────

class Unsupported extends Error {}

interface Scope {
  vars: Map<string, Value>;
  parent?: Scope;
  file: GoFile;
}

interface Thunk {
  expr?: Expr;
  scope?: Scope;
  value?: Value;
  /** The element type a `{...}` with elided type stands for. */
  expected?: GoType | null;
}

type Value =
  | { k: 'str'; v: string }
  | { k: 'num'; v: number }
  | { k: 'bool'; v: boolean }
  | { k: 'nil' }
  | { k: 'comp'; type: GoType | null; fields: Map<string, Thunk>; entries: { key: Value; thunk: Thunk }[]; elems: Thunk[] }
  /** A name from a package outside the provider (schema.TypeString, validation.NoZeroValues). */
  | { k: 'ext'; name: string }
  /** A call into a package outside the provider, kept unevaluated. */
  | { k: 'call'; callee: string; args: Thunk[]; text: string }
  | { k: 'func'; decl: FuncDecl; text: string }
  | { k: 'funclit'; where: string }
  | { k: 'opaque'; text: string };

const constThunk = (value: Value): Thunk => ({ value });

function exprText(file: GoFile, e: Span): string {
  return file.src.slice(e.start, e.end).replace(/\s+/g, ' ').replace(/,\s*([)}\]])/g, '$1');
}

function lookup(scope: Scope | undefined, name: string): Value | undefined {
  for (let s = scope; s; s = s.parent) if (s.vars.has(name)) return s.vars.get(name);
  return undefined;
}

function assignVar(scope: Scope, name: string, value: Value): void {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.vars.has(name)) {
      s.vars.set(name, value);
      return;
    }
  }
  throw new Unsupported(`assignment to undeclared ${name}`);
}

/** Thunks keep a flat copy of the visible locals, so a later reassignment does not change them. */
function snapshot(scope: Scope): Scope {
  const vars = new Map<string, Value>();
  const chain: Scope[] = [];
  for (let s: Scope | undefined = scope; s; s = s.parent) chain.unshift(s);
  for (const s of chain) for (const [k, v] of s.vars) vars.set(k, v);
  return { vars, file: scope.file };
}

class Interpreter {
  private depth = 0;
  constructor(readonly tree: SourceTree) {}

  where(file: GoFile, line: number): string {
    return `${file.rel}:${line}`;
  }

  force(th: Thunk): Value {
    if (th.value === undefined) {
      if (!th.expr || !th.scope) throw new Unsupported('empty thunk');
      th.value = this.eval(th.expr, th.scope, th.expected ?? null);
    }
    return th.value;
  }

  packageValue(pkg: GoPackage, name: string): Value | undefined {
    const cached = pkg.valueCache.get(name);
    if (cached) return cached;
    const decl = pkg.values.get(name);
    if (decl) {
      const v = this.eval(declExpr(decl), { vars: new Map(), file: decl.file }, null);
      pkg.valueCache.set(name, v);
      return v;
    }
    const fn = pkg.funcs.get(name);
    if (fn) return { k: 'func', decl: fn, text: name };
    return undefined;
  }

  eval(e: Expr, scope: Scope, expected: GoType | null): Value {
    const file = scope.file;
    switch (e.t) {
      case 'lit':
        if (e.kind === 'string' || e.kind === 'char') return { k: 'str', v: e.value };
        if (e.kind === 'imag') throw new Unsupported('imaginary literal');
        return { k: 'num', v: e.kind === 'int' ? Number(e.value.replace(/^0([0-7]+)$/, '0o$1')) : Number(e.value) };
      case 'ident': {
        const local = lookup(scope, e.name);
        if (local) return local;
        if (e.name === 'true' || e.name === 'false') return { k: 'bool', v: e.name === 'true' };
        if (e.name === 'nil') return { k: 'nil' };
        const pkgValue = this.packageValue(file.pkg, e.name);
        if (pkgValue) return pkgValue.k === 'func' ? { ...pkgValue, text: e.name } : pkgValue;
        return { k: 'ext', name: e.name }; // builtins and predeclared types
      }
      case 'paren':
        return this.eval(e.x, scope, expected);
      case 'assert':
        return this.eval(e.x, scope, null);
      case 'funclit':
        return { k: 'funclit', where: this.where(file, e.line) };
      case 'type':
        return { k: 'ext', name: typeText(e.type) };
      case 'selector': {
        if (e.x.t === 'ident' && !lookup(scope, e.x.name) && file.imports.has(e.x.name)) {
          const importPath = file.imports.get(e.x.name) as string;
          const qualified = `${packageNameOf(importPath)}.${e.sel}`;
          const pkg = this.tree.dirFor(importPath) ? this.tree.load(importPath) : undefined;
          if (pkg && this.tree.isProviderPackage(importPath)) {
            const v = this.packageValue(pkg, e.sel);
            if (!v) throw new Unsupported(`${qualified} not found`);
            return v.k === 'func' ? { ...v, text: exprText(file, e) } : v;
          }
          // Constants of vendored packages (godo's enums) are data; anything else stays symbolic.
          if (pkg && pkg.values.has(e.sel)) {
            try {
              const v = this.packageValue(pkg, e.sel);
              if (v && (v.k === 'str' || v.k === 'num' || v.k === 'bool')) return v;
            } catch (err) {
              if (!(err instanceof Unsupported)) throw err;
            }
          }
          return { k: 'ext', name: qualified };
        }
        const x = this.eval(e.x, scope, null);
        if (x.k === 'comp') {
          const f = x.fields.get(e.sel);
          if (!f) throw new Unsupported(`field ${e.sel} not set`);
          return this.force(f);
        }
        return { k: 'opaque', text: exprText(file, e) };
      }
      case 'index': {
        const x = this.eval(e.x, scope, null);
        const key = this.eval(e.index, scope, null);
        if (x.k === 'comp') {
          if (key.k === 'num' && x.elems.length) return this.force(x.elems[key.v]);
          const entry = x.entries.find((en) => sameKey(en.key, key));
          if (!entry) throw new Unsupported(`no entry ${describe(key)} at ${this.where(file, e.line)}`);
          return this.force(entry.thunk);
        }
        return { k: 'opaque', text: exprText(file, e) };
      }
      case 'unary': {
        if (e.op === '&') return this.eval(e.x, scope, expected && expected.k === 'ptr' ? expected.elem : expected);
        const x = this.eval(e.x, scope, null);
        if (e.op === '!' && x.k === 'bool') return { k: 'bool', v: !x.v };
        if (e.op === '-' && x.k === 'num') return { k: 'num', v: -x.v };
        if (e.op === '+' && x.k === 'num') return x;
        if (e.op === '*') return x;
        throw new Unsupported(`unary ${e.op} on ${x.k} at ${this.where(file, e.line)}`);
      }
      case 'binary': {
        const x = this.eval(e.x, scope, null);
        if (e.op === '&&' || e.op === '||') {
          if (x.k !== 'bool') throw new Unsupported(`${e.op} on ${x.k}`);
          if (e.op === '&&' && !x.v) return x;
          if (e.op === '||' && x.v) return x;
          const y = this.eval(e.y, scope, null);
          if (y.k !== 'bool') throw new Unsupported(`${e.op} on ${y.k}`);
          return y;
        }
        const y = this.eval(e.y, scope, null);
        return binary(e.op, x, y, () => this.where(file, e.line));
      }
      case 'slice': {
        const x = this.eval(e.x, scope, null);
        const lo = e.lo ? this.eval(e.lo, scope, null) : { k: 'num' as const, v: 0 };
        if (x.k === 'str' && lo.k === 'num') {
          const hi = e.hi ? this.eval(e.hi, scope, null) : { k: 'num' as const, v: x.v.length };
          if (hi.k !== 'num') throw new Unsupported('slice bound');
          return { k: 'str', v: x.v.slice(lo.v, hi.v) };
        }
        throw new Unsupported(`slice of ${x.k}`);
      }
      case 'composite':
        return this.composite(e, scope, e.type ?? derefType(expected));
      case 'call':
        return this.call(e, scope);
      case 'range':
        throw new Unsupported('range outside for');
    }
  }

  composite(e: Expr & { t: 'composite' }, scope: Scope, type: GoType | null): Value {
    const snap = snapshot(scope);
    const value: Value & { k: 'comp' } = { k: 'comp', type, fields: new Map(), entries: [], elems: [] };
    const t = type ? derefType(type) : null;
    for (const el of e.elems) {
      if (t && t.k === 'map') {
        if (!el.key) throw new Unsupported('map element without key');
        const key = this.eval(el.key, scope, t.key);
        value.entries.push({ key, thunk: { expr: el.value, scope: snap, expected: t.value } });
      } else if (t && (t.k === 'slice' || t.k === 'array')) {
        value.elems.push({ expr: el.value, scope: snap, expected: t.elem });
      } else {
        if (!el.key || el.key.t !== 'ident') {
          value.elems.push({ expr: el.value, scope: snap, expected: null });
          continue;
        }
        value.fields.set(el.key.name, { expr: el.value, scope: snap, expected: null });
      }
    }
    return value;
  }

  call(e: Expr & { t: 'call' }, scope: Scope): Value {
    const file = scope.file;
    const fnExpr = e.fn.t === 'paren' ? e.fn.x : e.fn;
    if (fnExpr.t === 'type') {
      // A conversion such as []string(x) or a func type; the value passes through.
      return this.eval(e.args[0], scope, fnExpr.type);
    }
    if (fnExpr.t === 'ident' && !lookup(scope, fnExpr.name) && !file.pkg.funcs.has(fnExpr.name) && !file.pkg.values.has(fnExpr.name)) {
      return this.builtin(fnExpr.name, e, scope);
    }
    const fn = this.eval(fnExpr, scope, null);
    if (fn.k === 'func') {
      if (fn.decl.file.pkg.importPath === `${MODULE}/internal/datalist` && fn.decl.name === 'NewResource') {
        return this.dataListResource(this.eval(e.args[0], scope, null));
      }
      const args = e.args.map((a) => this.eval(a, scope, null));
      return this.invoke(fn.decl, args);
    }
    if (fn.k === 'ext') {
      if (fn.name === 'maps.Copy') {
        const dst = this.eval(e.args[0], scope, null);
        const src = this.eval(e.args[1], scope, null);
        if (dst.k !== 'comp' || src.k !== 'comp') throw new Unsupported('maps.Copy of non-map');
        for (const en of src.entries) setEntry(dst, en.key, en.thunk);
        return { k: 'nil' };
      }
      const snap = snapshot(scope);
      return { k: 'call', callee: fn.name, args: e.args.map((a) => ({ expr: a, scope: snap })), text: exprText(file, e) };
    }
    return { k: 'opaque', text: exprText(file, e) };
  }

  builtin(name: string, e: Expr & { t: 'call' }, scope: Scope): Value {
    const args = () => e.args.map((a) => this.eval(a, scope, null));
    switch (name) {
      case 'string':
      case 'int':
      case 'int64':
      case 'int32':
      case 'float64':
      case 'float32':
      case 'bool':
        return this.eval(e.args[0], scope, null);
      case 'len': {
        const [x] = args();
        if (x.k === 'str') return { k: 'num', v: x.v.length };
        if (x.k === 'comp') return { k: 'num', v: x.entries.length + x.elems.length };
        throw new Unsupported('len');
      }
      case 'append': {
        const [s, ...rest] = args();
        if (s.k !== 'comp' && s.k !== 'nil') throw new Unsupported('append');
        const out: Value & { k: 'comp' } = { k: 'comp', type: s.k === 'comp' ? s.type : null, fields: new Map(), entries: [], elems: s.k === 'comp' ? [...s.elems] : [] };
        for (const r of rest) out.elems.push(constThunk(r));
        return out;
      }
      case 'delete': {
        const [m, key] = args();
        if (m.k !== 'comp') throw new Unsupported('delete from non-map');
        m.entries = m.entries.filter((en) => !sameKey(en.key, key));
        return { k: 'nil' };
      }
      case 'make':
        return { k: 'comp', type: e.args[0].t === 'type' ? e.args[0].type : null, fields: new Map(), entries: [], elems: [] };
      case 'new':
        return { k: 'comp', type: null, fields: new Map(), entries: [], elems: [] };
    }
    throw new Unsupported(`builtin ${name}`);
  }

  invoke(fn: FuncDecl, args: Value[]): Value {
    if (++this.depth > 40) throw new Unsupported('call depth');
    try {
      const scope: Scope = { vars: new Map(), file: fn.file };
      fn.params.forEach((p, idx) => {
        if (p !== '_') scope.vars.set(p, args[idx] ?? { k: 'nil' });
      });
      const result = this.exec(parseFuncBody(fn), scope);
      if (!result) throw new Unsupported(`${fn.name} returned nothing`);
      return result;
    } finally {
      this.depth--;
    }
  }

  /** Runs statements; returns the value of a `return`, or undefined when the block falls through. */
  exec(body: Stmt[], scope: Scope): Value | undefined {
    for (const s of body) {
      const r = this.stmt(s, scope);
      if (r) return r;
    }
    return undefined;
  }

  stmt(s: Stmt, scope: Scope): Value | undefined {
    const file = scope.file;
    switch (s.t) {
      case 'return':
        return s.results.length ? this.eval(s.results[0], scope, null) : { k: 'nil' };
      case 'var':
        s.names.forEach((n, idx) => scope.vars.set(n, s.values[idx] ? this.eval(s.values[idx], scope, null) : { k: 'nil' }));
        return undefined;
      case 'block':
        return this.exec(s.body, { vars: new Map(), parent: scope, file });
      case 'expr':
        this.eval(s.x, scope, null);
        return undefined;
      case 'assign': {
        if (s.lhs.length !== s.rhs.length) throw new Unsupported(`multi-value assignment at ${this.where(file, s.line)}`);
        const values = s.rhs.map((r) => this.eval(r, scope, null));
        s.lhs.forEach((l, idx) => {
          let v = values[idx];
          if (s.op !== '=' && s.op !== ':=') {
            const current = this.eval(l, scope, null);
            v = binary(s.op.slice(0, -1), current, v, () => this.where(file, s.line));
          }
          this.store(l, v, scope, s.op === ':=', s.op === '=' || s.op === ':=' ? s.rhs[idx] : undefined);
        });
        return undefined;
      }
      case 'if': {
        const inner: Scope = { vars: new Map(), parent: scope, file };
        if (s.init) this.stmt(s.init, inner);
        const cond = this.eval(s.cond, inner, null);
        if (cond.k !== 'bool') throw new Unsupported(`condition not known at ${this.where(file, s.line)}`);
        if (cond.v) return this.exec(s.then, { vars: new Map(), parent: inner, file });
        return s.else ? this.exec(s.else, { vars: new Map(), parent: inner, file }) : undefined;
      }
      case 'range': {
        const x = this.eval(s.x, scope, null);
        if (x.k !== 'comp') throw new Unsupported(`range over ${x.k}`);
        const pairs: [Value, Thunk][] = x.entries.length ? x.entries.map((en) => [en.key, en.thunk]) : x.elems.map((th, idx) => [{ k: 'num', v: idx }, th]);
        for (const [key, thunk] of pairs) {
          const inner: Scope = { vars: new Map(), parent: scope, file };
          if (s.key) this.store(s.key, key, inner, s.define);
          if (s.value) this.store(s.value, this.force(thunk), inner, s.define);
          const r = this.exec(s.body, inner);
          if (r) return r;
        }
        return undefined;
      }
      case 'incdec':
      case 'unsupported':
        throw new Unsupported(`statement ${s.t === 'unsupported' ? s.what : s.op} at ${this.where(file, s.line)}`);
    }
  }

  store(target: Expr, value: Value, scope: Scope, define: boolean, source?: Expr): void {
    // The source expression is kept so an unresolved validator can still be shown as written.
    const thunk: Thunk = source ? { expr: source, scope: snapshot(scope), value } : constThunk(value);
    if (target.t === 'ident') {
      if (target.name === '_') return;
      if (define) scope.vars.set(target.name, value);
      else assignVar(scope, target.name, value);
      return;
    }
    if (target.t === 'index') {
      const m = this.eval(target.x, scope, null);
      if (m.k !== 'comp') throw new Unsupported('index assignment to non-map');
      const mapType = derefType(m.type);
      setEntry(m, this.eval(target.index, scope, null), { ...thunk, value: this.retype(value, mapType && mapType.k === 'map' ? mapType.value : null) });
      return;
    }
    if (target.t === 'selector') {
      const obj = this.eval(target.x, scope, null);
      if (obj.k !== 'comp') throw new Unsupported('field assignment to non-struct');
      obj.fields.set(target.sel, thunk);
      return;
    }
    if (target.t === 'unary' && target.op === '*') {
      this.store(target.x, value, scope, define, source);
      return;
    }
    throw new Unsupported(`assignment target ${target.t}`);
  }

  /** `m["x"] = &schema.Schema{...}` already carries its type; an untyped value takes the map's. */
  retype(value: Value, type: GoType | null): Value {
    if (value.k === 'comp' && !value.type && type) return { ...value, type };
    return value;
  }

  /**
   * datalist.NewResource builds a data source out of a record schema with loops this interpreter
   * does not run, so its effect is reproduced here from internal/datalist/schema.go: every record
   * attribute becomes computed-only inside the result list; `filter` keys are the record attributes
   * that are not maps, `sort` keys the primitive ones; the extra query attributes are copied in.
   * filterSchema and sortSchema themselves are still read from the Go source.
   */
  dataListResource(config: Value): Value {
    if (config.k !== 'comp') throw new Unsupported('datalist config');
    const get = (name: string) => {
      const f = config.fields.get(name);
      return f ? this.force(f) : undefined;
    };
    const record = get('RecordSchema');
    const resultName = get('ResultAttributeName');
    if (!record || record.k !== 'comp' || !resultName || resultName.k !== 'str') throw new Unsupported('datalist config fields');
    const schemaMapType: GoType = { k: 'map', key: { k: 'name', name: 'string' }, value: { k: 'ptr', elem: { k: 'name', name: 'schema.Schema' } } };
    const recordCopy: Value & { k: 'comp' } = { k: 'comp', type: schemaMapType, fields: new Map(), entries: [], elems: [] };
    const filterKeys: string[] = [];
    const sortKeys: string[] = [];
    for (const en of record.entries) {
      const attr = this.force(en.thunk);
      if (attr.k !== 'comp' || en.key.k !== 'str') throw new Unsupported('datalist record attribute');
      const copy: Value & { k: 'comp' } = { k: 'comp', type: { k: 'name', name: 'schema.Schema' }, fields: new Map(attr.fields), entries: [], elems: [] };
      copy.fields.set('Computed', constThunk({ k: 'bool', v: true }));
      copy.fields.set('Required', constThunk({ k: 'bool', v: false }));
      copy.fields.set('Optional', constThunk({ k: 'bool', v: false }));
      recordCopy.entries.push({ key: en.key, thunk: constThunk(copy) });
      const typeField = copy.fields.get('Type');
      const type = typeField ? this.force(typeField) : undefined;
      const typeName = type && type.k === 'ext' ? type.name : '';
      if (typeName !== 'schema.TypeMap') filterKeys.push(en.key.v);
      if (['schema.TypeString', 'schema.TypeBool', 'schema.TypeInt', 'schema.TypeFloat'].includes(typeName)) sortKeys.push(en.key.v);
    }
    const datalist = this.tree.load(`${MODULE}/internal/datalist`);
    const filterSchema = datalist?.funcs.get('filterSchema');
    const sortSchema = datalist?.funcs.get('sortSchema');
    if (!filterSchema || !sortSchema) throw new Unsupported('datalist helpers missing');
    const keyList = (keys: string[]): Value => ({
      k: 'comp', type: { k: 'slice', elem: { k: 'name', name: 'string' } }, fields: new Map(), entries: [],
      // Go builds these from map iteration, so their order is random; sorted for a stable file.
      elems: [...keys].sort().map((key) => constThunk({ k: 'str', v: key })),
    });
    const dsSchema: Value & { k: 'comp' } = { k: 'comp', type: schemaMapType, fields: new Map(), entries: [], elems: [] };
    setEntry(dsSchema, { k: 'str', v: 'filter' }, constThunk(this.invoke(filterSchema, [keyList(filterKeys)])));
    setEntry(dsSchema, { k: 'str', v: 'sort' }, constThunk(this.invoke(sortSchema, [keyList(sortKeys)])));
    const elem: Value = { k: 'comp', type: { k: 'name', name: 'schema.Resource' }, fields: new Map([['Schema', constThunk(recordCopy)]]), entries: [], elems: [] };
    setEntry(dsSchema, resultName, constThunk({
      k: 'comp', type: { k: 'name', name: 'schema.Schema' }, entries: [], elems: [],
      fields: new Map([
        ['Type', constThunk({ k: 'ext', name: 'schema.TypeList' })],
        ['Computed', constThunk({ k: 'bool', v: true })],
        ['Elem', constThunk(elem)],
      ]),
    }));
    const extra = get('ExtraQuerySchema');
    if (extra && extra.k === 'comp') for (const en of extra.entries) setEntry(dsSchema, en.key, en.thunk);
    return { k: 'comp', type: { k: 'name', name: 'schema.Resource' }, fields: new Map([['Schema', constThunk(dsSchema)]]), entries: [], elems: [] };
  }
}

function sameKey(a: Value, b: Value): boolean {
  return (a.k === 'str' && b.k === 'str' && a.v === b.v) || (a.k === 'num' && b.k === 'num' && a.v === b.v);
}

function setEntry(m: Value & { k: 'comp' }, key: Value, thunk: Thunk): void {
  const existing = m.entries.find((en) => sameKey(en.key, key));
  if (existing) existing.thunk = thunk;
  else m.entries.push({ key, thunk });
}

function describe(v: Value): string {
  return v.k === 'str' ? JSON.stringify(v.v) : v.k === 'num' || v.k === 'bool' ? String(v.v) : v.k;
}

function binary(op: string, x: Value, y: Value, where: () => string): Value {
  if (op === '==' || op === '!=') {
    let eq: boolean;
    if ((x.k === 'str' || x.k === 'num' || x.k === 'bool') && x.k === y.k) eq = x.v === (y as typeof x).v;
    else if (x.k === 'nil' && y.k === 'nil') eq = true;
    else throw new Unsupported(`comparison of ${x.k} and ${y.k} at ${where()}`);
    return { k: 'bool', v: op === '==' ? eq : !eq };
  }
  if (x.k === 'str' && y.k === 'str') {
    if (op === '+') return { k: 'str', v: x.v + y.v };
    if (op === '<') return { k: 'bool', v: x.v < y.v };
    if (op === '>') return { k: 'bool', v: x.v > y.v };
  }
  if (x.k === 'num' && y.k === 'num') {
    switch (op) {
      case '+': return { k: 'num', v: x.v + y.v };
      case '-': return { k: 'num', v: x.v - y.v };
      case '*': return { k: 'num', v: x.v * y.v };
      case '/': return { k: 'num', v: Number.isInteger(x.v) && Number.isInteger(y.v) ? Math.trunc(x.v / y.v) : x.v / y.v };
      case '%': return { k: 'num', v: x.v % y.v };
      case '<<': return { k: 'num', v: x.v * 2 ** y.v };
      case '>>': return { k: 'num', v: Math.floor(x.v / 2 ** y.v) };
      case '<': return { k: 'bool', v: x.v < y.v };
      case '<=': return { k: 'bool', v: x.v <= y.v };
      case '>': return { k: 'bool', v: x.v > y.v };
      case '>=': return { k: 'bool', v: x.v >= y.v };
    }
  }
  throw new Unsupported(`${x.k} ${op} ${y.k} at ${where()}`);
}

// ───────────────────────────── schema extraction ─────────────────────────────

const TYPE_NAMES: Record<string, Attribute['type']> = {
  'schema.TypeString': 'string',
  'schema.TypeInt': 'number',
  'schema.TypeFloat': 'number',
  'schema.TypeBool': 'bool',
  'schema.TypeList': 'list',
  'schema.TypeSet': 'set',
  'schema.TypeMap': 'map',
};

const SIMPLE_VALIDATORS: Record<string, Validator> = {
  'validation.NoZeroValues': { kind: 'noZeroValues' },
  'validation.StringIsNotEmpty': { kind: 'notEmpty' },
  'validation.IsIPv4Address': { kind: 'isIPv4' },
  'validation.IsIPv6Address': { kind: 'isIPv6' },
  'validation.IsIPAddress': { kind: 'isIP' },
};

class Extractor {
  constructor(readonly interp: Interpreter, readonly tree: SourceTree) {}

  private comp(v: Value, what: string): Value & { k: 'comp' } {
    if (v.k !== 'comp') throw new Unsupported(`${what} is ${v.k === 'call' ? v.text : v.k === 'opaque' ? v.text : v.k}`);
    return v;
  }
  /** A field set to nil (data sources reset ValidateFunc that way) counts as not set. */
  private thunk(c: Value & { k: 'comp' }, name: string): Thunk | undefined {
    const th = c.fields.get(name);
    if (!th || th.value?.k === 'nil' || (th.expr?.t === 'ident' && th.expr.name === 'nil' && !lookup(th.scope, 'nil'))) return undefined;
    return th;
  }
  private field(c: Value & { k: 'comp' }, name: string): Value | undefined {
    const th = this.thunk(c, name);
    return th ? this.interp.force(th) : undefined;
  }
  private bool(c: Value & { k: 'comp' }, name: string): boolean {
    const v = this.field(c, name);
    if (v === undefined) return false;
    if (v.k !== 'bool') throw new Unsupported(`${name} is not a constant bool`);
    return v.v;
  }
  private num(v: Value, what: string): number {
    if (v.k !== 'num') throw new Unsupported(`${what} is not a constant number`);
    return v.v;
  }
  private strings(v: Value, what: string): string[] {
    const c = this.comp(v, what);
    return c.elems.map((th) => {
      const s = this.interp.force(th);
      if (s.k !== 'str') throw new Unsupported(`${what} element is not a constant string`);
      return s.v;
    });
  }
  private thunkText(th: Thunk): string {
    if (th.expr && th.scope) return exprText(th.scope.file, th.expr);
    const v = th.value;
    return v && (v.k === 'call' || v.k === 'opaque') ? v.text : v && v.k === 'ext' ? v.name : '?';
  }

  resource(v: Value): { schemaVersion: number; attributes: Record<string, Attribute> } {
    const r = this.comp(v, 'resource');
    const schemaVersion = this.field(r, 'SchemaVersion');
    const schemaMap = this.field(r, 'Schema');
    if (!schemaMap) throw new Unsupported('resource without Schema');
    return { schemaVersion: schemaVersion ? this.num(schemaVersion, 'SchemaVersion') : 0, attributes: this.attributes(schemaMap) };
  }

  attributes(v: Value): Record<string, Attribute> {
    const m = this.comp(v, 'schema map');
    const out: Record<string, Attribute> = {};
    for (const en of m.entries) {
      if (en.key.k !== 'str') throw new Unsupported('schema key is not a constant string');
      try {
        out[en.key.v] = this.attribute(this.interp.force(en.thunk));
      } catch (e) {
        if (e instanceof Unsupported) throw new Unsupported(`${en.key.v}: ${e.message}`);
        throw e;
      }
    }
    return out;
  }

  attribute(v: Value): Attribute {
    const s = this.comp(v, 'schema');
    const typeValue = this.field(s, 'Type');
    const type = typeValue && typeValue.k === 'ext' ? TYPE_NAMES[typeValue.name] : undefined;
    if (!type) throw new Unsupported('unknown Type');
    const a: Attribute = { type };
    if (this.bool(s, 'Required')) a.required = true;
    if (this.bool(s, 'Optional')) a.optional = true;
    if (this.bool(s, 'Computed')) a.computed = true;
    if (this.bool(s, 'ForceNew')) a.forceNew = true;
    if (this.bool(s, 'Sensitive')) a.sensitive = true;
    const def = this.field(s, 'Default');
    if (def !== undefined) a.default = this.json(def, 'Default');
    const defaultFunc = this.thunk(s, 'DefaultFunc');
    if (defaultFunc) a.defaultFunc = this.defaultFunc(defaultFunc);
    const maxItems = this.field(s, 'MaxItems');
    if (maxItems !== undefined) a.maxItems = this.num(maxItems, 'MaxItems');
    const minItems = this.field(s, 'MinItems');
    if (minItems !== undefined) a.minItems = this.num(minItems, 'MinItems');
    const mode = this.field(s, 'ConfigMode');
    if (mode && mode.k === 'ext' && mode.name === 'schema.SchemaConfigModeAttr') a.configModeAttr = true;
    const validate: Validator[] = [];
    for (const name of ['ValidateFunc', 'ValidateDiagFunc']) {
      const th = this.thunk(s, name);
      if (th) validate.push(...this.validators(th));
    }
    const diffSuppress = this.thunk(s, 'DiffSuppressFunc');
    if (diffSuppress) a.diffSuppress = this.funcName(diffSuppress);
    const stateFunc = this.thunk(s, 'StateFunc');
    if (stateFunc) a.stateFunc = this.funcName(stateFunc);
    for (const [goName, key] of [['ConflictsWith', 'conflictsWith'], ['ExactlyOneOf', 'exactlyOneOf'], ['AtLeastOneOf', 'atLeastOneOf'], ['RequiredWith', 'requiredWith']] as const) {
      const list = this.field(s, goName);
      if (list !== undefined && list.k !== 'nil') a[key] = this.strings(list, goName);
    }
    const elemValue = this.field(s, 'Elem');
    if (type === 'list' || type === 'set' || type === 'map') {
      if (!elemValue) {
        if (type !== 'map') throw new Unsupported(`${type} without Elem`);
        a.elem = 'string'; // the SDK's default for a map without Elem
      } else {
        const elem = this.comp(elemValue, 'Elem');
        const elemType = typeText(derefType(elem.type));
        if (elemType === 'schema.Resource') {
          a.elem = 'resource';
          a.attributes = this.resource(elem).attributes;
        } else if (elemType === 'schema.Schema') {
          const inner = this.attribute(elem);
          if (inner.type === 'list' || inner.type === 'set' || inner.type === 'map') throw new Unsupported('collection of collections');
          a.elem = inner.type;
          if (inner.validate) validate.push(...inner.validate);
        } else throw new Unsupported(`Elem of type ${elemType}`);
      }
    }
    if (validate.length) a.validate = validate;
    return a;
  }

  json(v: Value, what: string): Json {
    if (v.k === 'str' || v.k === 'num' || v.k === 'bool') return v.v;
    if (v.k === 'nil') return null;
    throw new Unsupported(`${what} is not a constant`);
  }

  defaultFunc(th: Thunk): DefaultFunc {
    const v = this.interp.force(th);
    if (v.k === 'call' && (v.callee === 'schema.EnvDefaultFunc' || v.callee === 'schema.MultiEnvDefaultFunc')) {
      const vars = this.interp.force(v.args[0]);
      const fallback = this.interp.force(v.args[1]);
      return {
        kind: 'env',
        vars: v.callee === 'schema.EnvDefaultFunc' ? [this.json(vars, 'env var') as string] : this.strings(vars, 'env vars'),
        default: this.json(fallback, 'env default'),
      };
    }
    return { kind: 'unresolved', text: this.thunkText(th) };
  }

  /** The name a DiffSuppressFunc/StateFunc is known by: the function (or factory) named, or where an inline one is. */
  funcName(th: Thunk): string {
    const e = th.expr;
    if (e && e.t === 'call' && th.scope) return exprText(th.scope.file, e.fn);
    const v = this.interp.force(th);
    if (v.k === 'funclit') return `inline@${v.where}`;
    if (v.k === 'func') return v.text;
    if (v.k === 'ext') return v.name;
    return this.thunkText(th);
  }

  validators(th: Thunk): Validator[] {
    const e = th.expr;
    // A validator built by a provider function (validateUint64()) is code, not data.
    if (e && th.scope && e.t === 'call') {
      const fn = this.interp.eval(e.fn, th.scope, null);
      if (fn.k === 'func') return [{ kind: 'unresolved', text: this.thunkText(th) }];
    }
    const v = this.interp.force(th);
    return this.validatorValue(v, this.thunkText(th));
  }

  validatorValue(v: Value, text: string): Validator[] {
    const unresolved: Validator[] = [{ kind: 'unresolved', text }];
    if (v.k === 'ext') return SIMPLE_VALIDATORS[v.name] ? [SIMPLE_VALIDATORS[v.name]] : unresolved;
    if (v.k === 'funclit') return [{ kind: 'unresolved', text: `inline@${v.where}` }];
    if (v.k === 'func') {
      const regex = this.regexValidator(v.decl);
      return regex ? [regex] : unresolved;
    }
    if (v.k !== 'call') return unresolved;
    const arg = (n: number) => this.interp.force(v.args[n]);
    try {
      switch (v.callee) {
        case 'validation.ToDiagFunc':
          return this.validatorValue(arg(0), this.thunkText(v.args[0]));
        case 'validation.All':
          return v.args.flatMap((a) => this.validatorValue(this.interp.force(a), this.thunkText(a)));
        case 'validation.StringInSlice': {
          const ignoreCase = arg(1);
          if (ignoreCase.k !== 'bool') return unresolved;
          return [{ kind: 'oneOf', values: this.strings(arg(0), 'StringInSlice'), ignoreCase: ignoreCase.v }];
        }
        case 'validation.IntInSlice': {
          const values = this.comp(arg(0), 'IntInSlice').elems.map((el) => this.num(this.interp.force(el), 'IntInSlice'));
          return [{ kind: 'oneOf', values, ignoreCase: false }];
        }
        case 'validation.IntBetween':
          return [{ kind: 'intBetween', min: this.num(arg(0), 'min'), max: this.num(arg(1), 'max') }];
        case 'validation.IntAtLeast':
          return [{ kind: 'intAtLeast', min: this.num(arg(0), 'min') }];
        case 'validation.IntAtMost':
          return [{ kind: 'intAtMost', max: this.num(arg(0), 'max') }];
        case 'validation.FloatBetween':
          return [{ kind: 'floatBetween', min: this.num(arg(0), 'min'), max: this.num(arg(1), 'max') }];
        case 'validation.FloatAtLeast':
          return [{ kind: 'floatAtLeast', min: this.num(arg(0), 'min') }];
        case 'validation.StringLenBetween':
          return [{ kind: 'stringLenBetween', min: this.num(arg(0), 'min'), max: this.num(arg(1), 'max') }];
        case 'validation.StringMatch': {
          const re = arg(0);
          const message = arg(1);
          const pattern = re.k === 'call' && re.callee === 'regexp.MustCompile' ? this.interp.force(re.args[0]) : undefined;
          if (!pattern || pattern.k !== 'str' || message.k !== 'str') return unresolved;
          return [{ kind: 'regex', pattern: pattern.v, message: message.v }];
        }
      }
    } catch (e) {
      if (e instanceof Unsupported) return unresolved;
      throw e;
    }
    return unresolved;
  }

  /**
   * A provider validator of the form "if !re.MatchString(value) { return nil, []error{fmt.Errorf(msg)} }"
   * with re a package-level regexp.MustCompile(literal) (tag.ValidateTag is one) is a regex check.
   */
  regexValidator(fn: FuncDecl): Validator | undefined {
    let body: Stmt[];
    try {
      body = parseFuncBody(fn);
    } catch {
      return undefined;
    }
    if (body.length !== 2 || body[0].t !== 'if' || body[1].t !== 'return') return undefined;
    const check = body[0];
    if (check.init || check.else || check.cond.t !== 'unary' || check.cond.op !== '!') return undefined;
    const call = check.cond.x;
    if (call.t !== 'call' || call.fn.t !== 'selector' || call.fn.sel !== 'MatchString' || call.fn.x.t !== 'ident') return undefined;
    const re = this.interp.packageValue(fn.file.pkg, call.fn.x.name);
    if (!re || re.k !== 'call' || re.callee !== 'regexp.MustCompile') return undefined;
    const pattern = this.interp.force(re.args[0]);
    const ret = check.then[0];
    if (check.then.length !== 1 || ret.t !== 'return' || ret.results.length !== 2) return undefined;
    const errs = ret.results[1];
    if (errs.t !== 'composite' || errs.elems.length !== 1) return undefined;
    const errCall = errs.elems[0].value;
    if (errCall.t !== 'call' || errCall.args.length !== 1 || errCall.args[0].t !== 'lit') return undefined;
    const callee = exprText(fn.file, errCall.fn);
    if (callee !== 'fmt.Errorf' && callee !== 'errors.New') return undefined;
    if (pattern.k !== 'str') return undefined;
    return { kind: 'regex', pattern: pattern.v, message: errCall.args[0].value };
  }
}

// ───────────────────────────── rules ─────────────────────────────

/**
 * Behaviour that is code, not schema. Each entry names a short anchor (an identifier or a small
 * token sequence) that is searched for in the Go file, inside `func` when given, so that the line
 * numbers follow the source and a version where the code moved or changed fails the run instead of
 * pointing at the wrong place. `nth` picks among several matches; without it the anchor must be unique.
 */
interface RuleSpec {
  id: string;
  kind: RuleKind;
  summary: string;
  anchor: string;
  func?: string;
  nth?: number;
  /** Relative to the source root; defaults to the file that defines the resource. */
  file?: string;
}

const RULES: Record<(typeof REQUIRED_RESOURCES)[number], RuleSpec[]> = {
  digitalocean_domain: [
    {
      id: 'domain.create-ip-address', kind: 'create', func: 'resourceDigitalOceanDomainCreate', anchor: 'opts.IPAddress',
      summary:
        'Create sends name and, only when set, ip_address (the API then adds an apex A record); the resource ID is the domain name.',
    },
    {
      id: 'domain.read', kind: 'read-normalization', func: 'resourceDigitalOceanDomainRead', anchor: 'd.Set("urn"',
      summary:
        'Read sets name, urn and ttl from the API and never reads ip_address back, so it keeps its configured value; a 404 removes the domain from state.',
    },
    {
      id: 'domain.import', kind: 'import', anchor: 'ImportStatePassthroughContext',
      summary:
        'Import takes the domain name as the ID unchanged.',
    },
  ],
  digitalocean_record: [
    {
      id: 'record.mx-requires-priority', kind: 'customizeDiff', anchor: 'recordType == "MX"',
      summary:
        'At plan time a record of type MX without priority set (GetOkExists, so an explicit 0 counts as set) is an error.',
    },
    {
      id: 'record.srv-requires-priority-weight', kind: 'customizeDiff', anchor: 'recordType == "SRV"',
      summary:
        'At plan time a record of type SRV must have both priority and weight set (0 allowed); either missing is an error.',
    },
    {
      id: 'record.caa-requires-flags-tag', kind: 'customizeDiff', anchor: 'recordType == "CAA"',
      summary:
        'At plan time a record of type CAA must have flags set (0 allowed) and a non-empty tag; either missing is an error.',
    },
    {
      id: 'record.srv-requires-port', kind: 'validate-in-create', func: 'resourceDigitalOceanRecordCreate', anchor: 'hasPort', nth: 2,
      summary:
        'Create (not the plan) fails for an SRV record without port; Update does not repeat the check.',
    },
    {
      id: 'record.request-omits-zero-values', kind: 'create', func: 'expandDigitalOceanRecordResource', anchor: 'GetOk("port")',
      summary:
        'Create and Update send name and value always, and port, priority, ttl, weight, flags and tag only when non-zero; type is sent only on Create (it is ForceNew).',
    },
    {
      id: 'record.read-fqdn-dot', kind: 'read-normalization', func: 'resourceDigitalOceanRecordRead', anchor: 'rec.Data += "."',
      summary:
        'Read appends "." to the value of CNAME, MX, NS, SRV and CAA records unless the value is "@" or the record tag is iodef (so CAA issue and issuewild values get the dot); A, AAAA, TXT and SOA values are stored as returned.',
    },
    {
      id: 'record.read-sets-all', kind: 'read-normalization', func: 'resourceDigitalOceanRecordRead', anchor: 'd.Set("weight"',
      summary:
        'Read overwrites name, type, value, port, priority, ttl, weight, flags and tag from the API (absent numbers become 0, absent tag ""), does not set domain, and removes the record from state on 404.',
    },
    {
      id: 'record.read-ttl-warning', kind: 'read-normalization', func: 'resourceDigitalOceanRecordRead', anchor: 'ttlChangeWarn', nth: 1,
      summary:
        'When the API TTL differs from the one in state, Read returns a warning diagnostic (DNS requires one TTL per name; the API aligns them) and stores the API TTL.',
    },
    {
      id: 'record.fqdn', kind: 'read-normalization', func: 'ConstructFqdn', anchor: 'strings.ToLower',
      summary:
        'fqdn is the domain itself for name "@"; a name that, lowercased, already ends in "<domain>." becomes that lowercased name without the trailing dot; otherwise it is name + "." + domain, case kept.',
    },
    {
      id: 'record.name-suppress', kind: 'diff-suppress', anchor: 'old+"."+domain == new',
      summary:
        'The inline DiffSuppressFunc on name hides a diff when state has "@" and config has "<domain>.", or when config is the state name followed by "." + "<domain>.".',
    },
    {
      id: 'record.value-suppress', kind: 'diff-suppress', anchor: 'old == new+"."+domain',
      summary:
        'The inline DiffSuppressFunc on value hides a diff when state has "@" and config has "<domain>.", or when state is the configured value followed by "." + "<domain>." (a relative target read back as a FQDN).',
    },
    {
      id: 'record.import', kind: 'import', func: 'resourceDigitalOceanRecordImport', anchor: 'strings.Split',
      summary:
        'Import accepts "<domain>,<record id>" (the id must be an integer) and sets domain from it; a bare ID is kept as is with domain unset.',
    },
  ],
  digitalocean_droplet: [
    {
      id: 'droplet.ipv6-enable-marks-address-unknown', kind: 'customizeDiff', anchor: 'customdiff.ComputedIf',
      summary:
        'When ipv6 changes from false to true the plan marks ipv6_address as unknown (computed) so references to it wait for apply.',
    },
    {
      id: 'droplet.ipv6-disable-replaces', kind: 'force-new-if', anchor: 'customdiff.ForceNewIfChange',
      summary:
        'Changing ipv6 from true to false forces replacement; false to true is done in place (see droplet.update-ipv6).',
    },
    {
      id: 'droplet.user-data-sha1', kind: 'read-normalization', file: 'digitalocean/util/hash.go', func: 'HashString', anchor: 'sha1.Sum',
      summary:
        'user_data goes through util.HashStringStateFunc, so state holds the lowercase hex SHA-1 of the user data, not the text; Create still sends the text.',
    },
    {
      id: 'droplet.user-data-suppress', kind: 'diff-suppress', anchor: 'old == d.Get("user_data")',
      summary:
        'The inline DiffSuppressFunc on user_data hides a diff when the new value is non-empty and the old value equals the current user_data, for older states that stored the full text.',
    },
    {
      id: 'droplet.region-size-lowercase', kind: 'read-normalization', anchor: 'strings.ToLower(val.(string))', nth: 1,
      summary:
        'region and size have inline StateFuncs that lowercase them, and Read stores the API slugs; ipv6_address is stored lowercased.',
    },
    {
      id: 'droplet.create-image-and-keys', kind: 'create', func: 'resourceDigitalOceanDropletCreate', anchor: 'strconv.Atoi(image)',
      summary:
        'Create sends image as a numeric image ID when it parses as an integer, otherwise as a slug; each ssh_keys entry likewise becomes a key ID or a fingerprint.',
    },
    {
      id: 'droplet.backup-policy-needs-backups', kind: 'validate-in-create', func: 'resourceDigitalOceanDropletCreate', anchor: 'errDropletBackupPolicy', nth: 1,
      summary:
        'Create and Update fail with errDropletBackupPolicy when backup_policy is set while backups is false; the schema also has RequiredWith backups.',
    },
    {
      id: 'droplet.create-waits-active', kind: 'create', func: 'resourceDigitalOceanDropletCreate', anchor: 'waitForDropletAttribute', nth: 1,
      summary:
        'After Create the provider polls the droplet until its status moves from new to active, then stores the refreshed attributes.',
    },
    {
      id: 'droplet.read-no-image', kind: 'read-normalization', func: 'setDropletAttributes', anchor: 'd.Set("name"',
      summary:
        'Read never sets image (a slug may later point at another image ID, so image is allowed to drift) and sets name, region, size, prices, disk, vcpus, memory, status, locked, created_at, vpc_uuid, addresses, volume_ids and tags from the API.',
    },
    {
      id: 'droplet.read-features', kind: 'read-normalization', func: 'setDropletAttributes', anchor: 'droplet.Features',
      summary:
        'When the API returns a features list, Read sets backups, ipv6, private_networking and monitoring to whether each feature is present; ssh_keys, user_data, resize_disk, graceful_shutdown, droplet_agent and backup_policy are never read back.',
    },
    {
      id: 'droplet.update-resize', kind: 'update', func: 'resourceDigitalOceanDropletUpdate', anchor: 'd.HasChange("size")',
      summary:
        'A size change powers the droplet off (an already-off droplet is fine), waits for status off, resizes with the resize_disk flag (true also grows the disk, which DigitalOcean cannot shrink again, so a later smaller size fails in the API; the provider itself does not check), waits for the action, powers on and waits for active; if the resize fails it powers the droplet back on and reports the error.',
    },
    {
      id: 'droplet.update-rename', kind: 'update', func: 'resourceDigitalOceanDropletUpdate', anchor: 'DropletActions.Rename',
      summary:
        'A name change is a rename action in place, followed by waiting until the droplet reports the new name.',
    },
    {
      id: 'droplet.update-backups', kind: 'update', func: 'resourceDigitalOceanDropletUpdate', anchor: 'd.HasChange("backups")',
      summary:
        'Turning backups on enables them (with backup_policy when set); turning them off disables them but fails if backup_policy is still set; a backup_policy change alone is applied with a change-policy action and requires backups.',
    },
    {
      id: 'droplet.update-private-networking', kind: 'update', func: 'resourceDigitalOceanDropletUpdate', anchor: 'EnablePrivateNetworking',
      summary:
        'private_networking can only be enabled in place; changing it to false does nothing in Update, and Read then sets it from the droplet features again.',
    },
    {
      id: 'droplet.update-ipv6', kind: 'update', func: 'resourceDigitalOceanDropletUpdate', anchor: 'EnableIPv6',
      summary:
        'ipv6 false to true runs an enable-IPv6 action, waits for it and returns a warning diagnostic that the OS needs extra configuration; there is no disable (true to false replaces, see droplet.ipv6-disable-replaces).',
    },
    {
      id: 'droplet.update-tags-volumes', kind: 'update', func: 'resourceDigitalOceanDropletUpdate', anchor: 'd.HasChange("volume_ids")',
      summary:
        'A tags change untags removed and creates-and-tags added tags; a volume_ids change attaches new volume IDs and detaches removed ones, one action at a time.',
    },
    {
      id: 'droplet.tags-case-insensitive', kind: 'diff-suppress', file: 'digitalocean/tag/tags.go', func: 'TagsSchema', anchor: 'HashStringIgnoreCase',
      summary:
        'tags is a set hashed on the lowercased tag, so tags differing only in case are one element; each tag must match tag.ValidateTag.',
    },
    {
      id: 'droplet.delete', kind: 'delete', func: 'resourceDigitalOceanDropletDelete', anchor: 'graceful_shutdown',
      summary:
        'Delete waits until the droplet is unlocked, shuts it down first when graceful_shutdown is true, detaches every volume in volume_ids, deletes it and waits for status archive (a 404 counts as deleted).',
    },
    {
      id: 'droplet.import', kind: 'import', func: 'resourceDigitalOceanDropletImport', anchor: 'droplet.Image.Slug', nth: 1,
      summary:
        'Import by droplet ID sets image to the image slug, or to the numeric image ID as a string when there is no slug, and sets resize_disk to true.',
    },
    {
      id: 'droplet.state-upgrade-v0', kind: 'read-normalization', file: 'digitalocean/droplet/resource_droplet_migrate.go', func: 'migrateDigitalOceanDropletStateV0toV1', anchor: 'is.Attributes["backups"]', nth: 1,
      summary:
        'SchemaVersion 1: a version 0 state gets backups and monitoring set to "false" when missing.',
    },
  ],
  digitalocean_volume: [
    {
      id: 'volume.no-shrink', kind: 'customizeDiff', anchor: 'newSize.(int) < oldSize.(int)',
      summary:
        'At plan time a size smaller than the one in state is an error: volumes can only be expanded.',
    },
    {
      id: 'volume.resize-in-place', kind: 'update', func: 'resourceDigitalOceanVolumeUpdate', anchor: 'StorageActions.Resize',
      summary:
        'A larger size is applied in place with a resize action (size and lowercased region) and waits for it; a tags change is applied with the tag helpers.',
    },
    {
      id: 'volume.create-filesystem', kind: 'create', func: 'resourceDigitalOceanVolumeCreate', anchor: 'initial_filesystem_type', nth: 1,
      summary:
        'Create sends initial_filesystem_type, or the deprecated filesystem_type when that is unset, as the filesystem to format; the region is sent lowercased.',
    },
    {
      id: 'volume.read', kind: 'read-normalization', func: 'resourceDigitalOceanVolumeRead', anchor: 'volume.Description',
      summary:
        'Read sets name, region slug, size, urn, tags and droplet_ids, and sets description, filesystem_type and filesystem_label only when the API value is non-empty; region has a lowercasing StateFunc.',
    },
    {
      id: 'volume.import', kind: 'import', anchor: 'ImportStatePassthroughContext',
      summary:
        'Import takes the volume ID unchanged.',
    },
  ],
  digitalocean_volume_attachment: [
    {
      id: 'volume-attachment.create', kind: 'create', func: 'resourceDigitalOceanVolumeAttachmentCreate', anchor: 'volume.DropletIDs[0] != dropletId',
      summary:
        'Create attaches only when the volume is not already attached to that droplet, retrying for 5 minutes while the droplet has a pending event; the ID is a unique ID prefixed "<droplet_id>-<volume_id>-".',
    },
    {
      id: 'volume-attachment.read', kind: 'read-normalization', func: 'resourceDigitalOceanVolumeAttachmentRead', anchor: 'volume.DropletIDs[0] != dropletId',
      summary:
        'Read removes the attachment from state when the volume is gone (404) or its first attached droplet is not droplet_id.',
    },
    {
      id: 'volume-attachment.delete', kind: 'delete', func: 'resourceDigitalOceanVolumeAttachmentDelete', anchor: 'DetachByDropletID',
      summary:
        'Delete detaches the volume from the droplet, retrying for 5 minutes on a pending event. There is no importer.',
    },
  ],
  digitalocean_reserved_ip: [
    {
      id: 'reserved-ip.create-ignores-ip', kind: 'create', func: 'resourceDigitalOceanReservedIPCreate', anchor: 'ReservedIPCreateRequest',
      summary:
        'Create always reserves a new IP in region (ip_address from config is not sent) and uses the IP as the ID; when droplet_id is set it then assigns the IP and waits for the action.',
    },
    {
      id: 'reserved-ip.update-droplet', kind: 'update', func: 'resourceDigitalOceanReservedIPUpdate', anchor: 'd.HasChange("droplet_id")',
      summary:
        'A droplet_id change assigns the IP to the new droplet, or unassigns it when droplet_id is removed, waiting for the action.',
    },
    {
      id: 'reserved-ip.read', kind: 'read-normalization', func: 'resourceDigitalOceanReservedIPRead', anchor: 'reservedIP.Droplet != nil',
      summary:
        'Read sets ip_address and urn; when droplet_id is set and the IP is assigned it sets droplet_id and region from the droplet, otherwise region from the IP, leaving droplet_id untouched (an assignment made elsewhere is not noticed); 404 removes it from state.',
    },
    {
      id: 'reserved-ip.delete', kind: 'delete', func: 'resourceDigitalOceanReservedIPDelete', anchor: 'resp.StatusCode != 422',
      summary:
        'Delete first unassigns the IP when droplet_id is set (a 422 is ignored as already unassigned), then releases it.',
    },
    {
      id: 'reserved-ip.import', kind: 'import', func: 'resourceDigitalOceanReservedIPImport', anchor: 'reservedIP.Droplet != nil',
      summary:
        'Import by IP sets ip_address, urn and region, and droplet_id when the IP is assigned.',
    },
  ],
  digitalocean_reserved_ip_assignment: [
    {
      id: 'reserved-ip-assignment.create', kind: 'create', func: 'resourceDigitalOceanReservedIPAssignmentCreate', anchor: 'id.PrefixedUniqueId',
      summary:
        'Create assigns ip_address to droplet_id and waits for the action; the ID is a unique ID prefixed "<droplet_id>-<ip_address>-".',
    },
    {
      id: 'reserved-ip-assignment.read', kind: 'read-normalization', func: 'resourceDigitalOceanReservedIPAssignmentRead', anchor: 'reservedIP.Droplet == nil',
      summary:
        'Read removes the assignment from state when the IP is not assigned to droplet_id; an error fetching the IP (including 404) is returned as an error.',
    },
    {
      id: 'reserved-ip-assignment.delete', kind: 'delete', func: 'resourceDigitalOceanReservedIPAssignmentDelete', anchor: 'reservedIP.Droplet.ID == dropletID',
      summary:
        'Delete unassigns only when the IP is still assigned to droplet_id (it dereferences the droplet without a nil check, so an unassigned IP makes it crash).',
    },
    {
      id: 'reserved-ip-assignment.import', kind: 'import', func: 'resourceDigitalOceanReservedIPAssignmentImport', anchor: 'strings.Split',
      summary:
        'Import requires "<ip_address>,<droplet_id>"; anything without a comma is an error.',
    },
  ],
  digitalocean_reserved_ipv6: [
    {
      id: 'reserved-ipv6.create', kind: 'create', func: 'resourceDigitalOceanReservedIPV6Create', anchor: 'ReservedIPV6CreateRequest',
      summary:
        'Create reserves a new IPv6 in region_slug (ip and droplet_id are not sent) and uses the address as the ID.',
    },
    {
      id: 'reserved-ipv6.no-update', kind: 'update', anchor: 'DeleteContext: resourceDigitalOceanReservedIPV6Delete',
      summary:
        'There is no Update: droplet_id is Optional+Computed without ForceNew, so a configured change plans an in-place update that the SDK then refuses at apply because the resource has no Update.',
    },
    {
      id: 'reserved-ipv6.read', kind: 'read-normalization', func: 'resourceDigitalOceanReservedIPV6Read', anchor: 'reservedIP.Droplet != nil',
      summary:
        'Read sets ip and urn; when droplet_id is set and the address is assigned it sets droplet_id and region_slug from the droplet, otherwise region_slug from the address; 404 removes it from state.',
    },
    {
      id: 'reserved-ipv6.delete', kind: 'delete', func: 'resourceDigitalOceanReservedIPV6Delete', anchor: 'strings.Contains(err.Error(), "404")',
      summary:
        'Delete unassigns first when droplet_id is set (422 ignored), then deletes; it only reports a delete error whose text contains 404, so other delete failures pass silently.',
    },
    {
      id: 'reserved-ipv6.import', kind: 'import', func: 'resourceDigitalOceanReservedIPV6Import', anchor: 'reservedIP.Droplet != nil',
      summary:
        'Import by address sets ip, urn, region_slug and, when assigned, droplet_id.',
    },
  ],
  digitalocean_reserved_ipv6_assignment: [
    {
      id: 'reserved-ipv6-assignment.create', kind: 'create', func: 'resourceDigitalOceanReservedIPV6AssignmentCreate', anchor: 'id.PrefixedUniqueId',
      summary:
        'Create assigns ip to droplet_id and waits for the action; the ID is a unique ID prefixed "<droplet_id>-<ip>-".',
    },
    {
      id: 'reserved-ipv6-assignment.read-errors', kind: 'read-normalization', func: 'resourceDigitalOceanReservedIPV6AssignmentRead', anchor: 'reservedIPv6.Droplet == nil',
      summary:
        'Unlike the IPv4 assignment, Read returns an error (instead of dropping the resource) when the address is not assigned to droplet_id.',
    },
    {
      id: 'reserved-ipv6-assignment.delete', kind: 'delete', func: 'resourceDigitalOceanReservedIPV6AssignmentDelete', anchor: 'reservedIPv6.Droplet.ID == dropletID',
      summary:
        'Delete unassigns only when the address is still assigned to droplet_id (no nil check on the droplet).',
    },
    {
      id: 'reserved-ipv6-assignment.import', kind: 'import', func: 'resourceDigitalOceanReservedIPV6AssignmentImport', anchor: 'strings.Split',
      summary:
        'Import requires "<ip>,<droplet_id>".',
    },
  ],
  digitalocean_firewall: [
    {
      id: 'firewall.needs-a-rule', kind: 'customizeDiff', anchor: '!hasInbound && !hasOutbound',
      summary:
        'At plan time a firewall with neither inbound_rule nor outbound_rule is an error.',
    },
    {
      id: 'firewall.port-range-unless-icmp', kind: 'customizeDiff', anchor: 'protocol != "icmp" && port == ""', nth: 1,
      summary:
        'At plan time every inbound and outbound rule whose protocol is not icmp must have a non-empty port_range.',
    },
    {
      id: 'firewall.update-replaces-rules', kind: 'update', func: 'firewallRequest', anchor: 'opts.Tags',
      summary:
        'Create and Update send the whole firewall (name, droplet_ids, all rules, tags) in one request.',
    },
    {
      id: 'firewall.read-port-range', kind: 'read-normalization', file: 'digitalocean/firewall/firewalls.go', func: 'flattenFirewallInboundRules', anchor: 'portRange == "0"',
      summary:
        'Read stores the rules as returned, except that a port_range of "0" becomes "all" for tcp/udp and is left out for icmp (same for outbound); status, created_at, pending_changes, droplet_ids and tags come from the API.',
    },
    {
      id: 'firewall.import', kind: 'import', anchor: 'ImportStatePassthroughContext',
      summary:
        'Import takes the firewall ID unchanged.',
    },
  ],
  digitalocean_project_resources: [
    {
      id: 'project-resources.create-is-update', kind: 'update', func: 'resourceDigitalOceanProjectResourcesUpdate', anchor: 'util.GetSetChanges',
      summary:
        'Create and Update are the same function: URNs removed from resources are moved to the default project, added ones are assigned to project; the ID is the project ID. A missing project (404) leaves the resource without an ID.',
    },
    {
      id: 'project-resources.read-intersection', kind: 'read-normalization', func: 'resourceDigitalOceanProjectResourcesRead', anchor: 'configuredURN == apiURN',
      summary:
        'Read keeps only the configured URNs the project still contains, so a URN moved elsewhere shows as drift and URNs added outside Terraform are ignored; a 404 on the project removes the resource from state.',
    },
    {
      id: 'project-resources.delete', kind: 'delete', func: 'resourceDigitalOceanProjectResourcesDelete', anchor: 'assignResourcesToDefaultProject',
      summary:
        'Delete moves every listed URN back to the default project. There is no importer.',
    },
  ],
  digitalocean_spaces_bucket: [
    {
      id: 'spaces-bucket.credentials', kind: 'validate-in-create', file: 'digitalocean/config/config.go', func: 'SpacesClient', anchor: 'c.accessID == ""',
      summary:
        'Every operation needs spaces_access_id and spaces_secret_key in the provider configuration, otherwise it fails saying the Spaces credentials are not configured; the endpoint is spaces_endpoint with the lowercased region filled in.',
    },
    {
      id: 'spaces-bucket.create', kind: 'create', func: 'resourceDigitalOceanBucketCreate', anchor: 'resourceDigitalOceanBucketUpdate',
      summary:
        'Create makes the bucket with the acl (retrying OperationAborted for 5 minutes), waits until it answers HEAD, sets the ID to name and then runs Update to apply acl, cors_rule, versioning and lifecycle_rule.',
    },
    {
      id: 'spaces-bucket.name-not-force-new', kind: 'update', func: 'resourceDigitalOceanBucketUpdate', anchor: 'd.HasChange("acl")',
      summary:
        'name is not ForceNew and Update never renames: a name change is planned in place and only the acl, cors_rule, versioning and lifecycle_rule changes are sent (to the bucket called name).',
    },
    {
      id: 'spaces-bucket.read-region-versioning', kind: 'read-normalization', func: 'resourceDigitalOceanBucketRead', anchor: 'NormalizeRegion',
      summary:
        'Read sets region from the bucket location (empty means nyc3), always stores versioning as one block with enabled true or false, reads lifecycle_rule back, and sets urn "do:space:<name>", bucket_domain_name "<name>.<region>.digitaloceanspaces.com" and endpoint "<region>.digitaloceanspaces.com"; acl and cors_rule are never read back. A 404 removes the bucket from state.',
    },
    {
      id: 'spaces-bucket.versioning-suppress', kind: 'diff-suppress', anchor: 'old == "1" && new == "0"',
      summary:
        'The inline DiffSuppressFunc on versioning hides the diff of removing the versioning block (count 1 to 0), since Read always stores one.',
    },
    {
      id: 'spaces-bucket.lifecycle-id', kind: 'update', func: 'resourceDigitalOceanBucketLifecycleUpdate', anchor: 'tf-s3-lifecycle-',
      summary:
        'A lifecycle_rule without id is sent with a generated unique ID prefixed "tf-s3-lifecycle-" (hence id is Optional+Computed); an empty lifecycle_rule list deletes the lifecycle configuration.',
    },
    {
      id: 'spaces-bucket.lifecycle-validators', kind: 'validate', func: 'validateS3BucketLifecycleTimestamp', anchor: 'time.RFC3339',
      summary:
        'lifecycle_rule expiration date must be a YYYY-MM-DD date (it is parsed as that day at midnight UTC in RFC 3339); the inline validator on lifecycle_rule prefix only warns when the prefix starts with a slash. Both are recorded as unresolved in validate.',
    },
    {
      id: 'spaces-bucket.delete', kind: 'delete', func: 'resourceDigitalOceanBucketDelete', anchor: 'BucketNotEmpty',
      summary:
        'Delete of a non-empty bucket fails unless force_destroy is true, in which case all objects are deleted first and the delete retried.',
    },
    {
      id: 'spaces-bucket.import', kind: 'import', func: 'resourceDigitalOceanBucketImport', anchor: 'strings.Split',
      summary:
        'Import requires "<region>,<name>", sets region and the ID (the name), and sets force_destroy to false.',
    },
  ],
  digitalocean_spaces_key: [
    {
      id: 'spaces-key.create', kind: 'create', func: 'resourceDigitalOceanSpacesKeyCreate', anchor: 'd.Set("secret_key"',
      summary:
        'Create sends name and grants; the ID is the access key; secret_key is stored only from the Create response.',
    },
    {
      id: 'spaces-key.permission-mapping', kind: 'create', func: 'parseRawGrants', anchor: 'case "readwrite"',
      summary:
        'Grant permission is not validated by the schema: read, readwrite and fullaccess map to the API permissions and any other value is sent as an empty permission.',
    },
    {
      id: 'spaces-key.read', kind: 'read-normalization', func: 'resourceDigitalOceanSpacesKeyRead', anchor: 'flattenGrants(key.Grants)',
      summary:
        'Read sets name, access_key, grant and created_at from the API and keeps secret_key from state; 404 removes the key. There is no importer.',
    },
    {
      id: 'spaces-key.update', kind: 'update', func: 'resourceDigitalOceanSpacesKeyUpdate', anchor: 'SpacesKeyUpdateRequest',
      summary:
        'Update sends name and the full grant list in place.',
    },
    {
      id: 'spaces-key.api-token', kind: 'create', func: 'resourceDigitalOceanSpacesKeyCreate', anchor: 'GodoClient()',
      summary:
        'Keys are managed through the DigitalOcean API with the token (the godo client), not through the Spaces S3 API: no operation on a key needs spaces_access_id or spaces_secret_key.',
    },
  ],
  digitalocean_spaces_bucket_object: [
    {
      id: 'spaces-object.credentials', kind: 'validate-in-create', func: 's3connFromResourceData', anchor: 'SpacesClient(region)',
      summary:
        'Create, Read, Update and Delete all start with the Spaces client for the region, so without spaces_access_id and spaces_secret_key each fails with the bare error "Spaces credentials not configured" (diag.FromErr, no prefix).',
    },
    {
      id: 'spaces-object.put', kind: 'create', func: 'resourceDigitalOceanSpacesBucketObjectPut', anchor: 'd.SetId(key)',
      summary:
        'Create uploads the body (source file, content, or content_base64 decoded, failing with "error decoding content_base64: …"), with acl, content_type and the other headers when set; the ID is the key; then Read.',
    },
    {
      id: 'spaces-object.update-put', kind: 'update', func: 'resourceDigitalOceanSpacesBucketObjectUpdate', anchor: 'slices.ContainsFunc',
      summary:
        'Update uploads the object again (a new version on a versioned bucket) when any of cache_control, content, content_base64, content_disposition, content_encoding, content_language, content_type, etag, metadata, source or website_redirect changed; otherwise only an acl change is sent (PutObjectAcl). bucket, key and region are ForceNew.',
    },
    {
      id: 'spaces-object.version-id-on-etag-change', kind: 'customizeDiff', func: 'resourceDigitalOceanSpacesBucketObjectCustomizeDiff', anchor: 'd.SetNewComputed("version_id")',
      summary:
        'CustomizeDiff marks version_id unknown only when etag changes. etag is Optional+Computed, so when it is not configured a change of content, content_base64 or source plans as an in-place update in which etag and version_id keep their prior values; the apply then stores the new ones.',
    },
    {
      id: 'spaces-object.read', kind: 'read-normalization', func: 'resourceDigitalOceanSpacesBucketObjectRead', anchor: 'strings.Trim(aws.StringValue(resp.ETag)',
      summary:
        'Read takes the headers from HEAD: cache_control, content_disposition, content_encoding, content_language, content_type, metadata (keys lowercased), version_id (none on an unversioned bucket), website_redirect, and etag with its quotes trimmed (for a single-part upload the hex MD5 of the body); a 404 removes the object from state.',
    },
  ],
  digitalocean_uptime_check: [
    {
      id: 'uptime-check.request', kind: 'create', func: 'resourceDigitalOceanUptimeCheckCreate', anchor: 'GetOk("enabled")',
      summary:
        'Create and Update send name and target, and type, enabled and regions only when set (a false enabled is sent as the zero value anyway).',
    },
    {
      id: 'uptime-check.read', kind: 'read-normalization', func: 'resourceDigitalOceanUptimeCheckRead', anchor: 'check.Type',
      summary:
        'Read sets name, target, enabled and regions from the API and type only when the API returns one; 404 removes it from state.',
    },
    {
      id: 'uptime-check.import', kind: 'import', anchor: 'ImportStatePassthroughContext',
      summary:
        'Import takes the check ID unchanged.',
    },
  ],
  digitalocean_uptime_alert: [
    {
      id: 'uptime-alert.notifications-first', kind: 'create', func: 'expandNotifications', anchor: 'config[0]',
      summary:
        'Only the first notifications block is used (slack channels and email addresses).',
    },
    {
      id: 'uptime-alert.update-optional-fields', kind: 'update', func: 'resourceDigitalOceanUptimeAlertUpdate', anchor: 'GetOk("comparison")',
      summary:
        'Create always sends comparison, threshold and period (empty/zero when unset); Update sends them only when set. check_id is not ForceNew: Update addresses the alert under the new check_id.',
    },
    {
      id: 'uptime-alert.read', kind: 'read-normalization', func: 'resourceDigitalOceanUptimeAlertRead', anchor: 'flattenNotifications',
      summary:
        'Read sets name, type, threshold, notifications (email list with empty entries dropped, slack list), comparison and period; check_id is not read back; 404 removes it from state.',
    },
    {
      id: 'uptime-alert.import', kind: 'import', func: 'resourceDigitalOceanUptimeAlertImport', anchor: 'strings.Split',
      summary:
        'Import requires "<check_id>,<alert_id>".',
    },
  ],
  digitalocean_monitor_alert: [
    {
      id: 'monitor-alert.request', kind: 'create', func: 'resourceDigitalOceanMonitorAlertCreate', anchor: 'AlertPolicyCreateRequest',
      summary:
        'Create and Update send every field (type, enabled, description, tags, compare, window, value as float32, entities, and the first alerts block).',
    },
    {
      id: 'monitor-alert.read', kind: 'read-normalization', func: 'resourceDigitalOceanMonitorAlertRead', anchor: 'flattenAlerts',
      summary:
        'Read sets every field from the API, with email addresses that are empty dropped and an empty email list stored as null; the slack channel and url compare case-insensitively (util.CaseSensitive); 404 removes it from state.',
    },
    {
      id: 'monitor-alert.import', kind: 'import', anchor: 'ImportStatePassthroughContext',
      summary:
        'Import takes the alert policy UUID unchanged.',
    },
  ],
  digitalocean_ssh_key: [
    {
      id: 'ssh-key.public-key-suppress', kind: 'diff-suppress', func: 'resourceDigitalOceanSSHKeyPublicKeyDiffSuppress', anchor: 'strings.TrimSpace', nth: 1,
      summary:
        'public_key differences that are only leading/trailing whitespace are suppressed; any other change replaces the key (ForceNew).',
    },
    {
      id: 'ssh-key.create-waits', kind: 'create', func: 'resourceDigitalOceanSSHKeyCreate', anchor: 'retry.RetryContext',
      summary:
        'After Create the provider retries GET by ID while it returns 404, up to the create timeout (2 minutes).',
    },
    {
      id: 'ssh-key.update-name', kind: 'update', func: 'resourceDigitalOceanSSHKeyUpdate', anchor: 'KeyUpdateRequest',
      summary:
        'A name change is an in-place rename.',
    },
    {
      id: 'ssh-key.read', kind: 'read-normalization', func: 'resourceDigitalOceanSSHKeyRead', anchor: 'd.Set("public_key"',
      summary:
        'Read sets name, fingerprint and public_key from the API; 404 removes it from state.',
    },
    {
      id: 'ssh-key.import', kind: 'import', anchor: 'ImportStatePassthroughContext',
      summary:
        'Import takes the numeric key ID unchanged.',
    },
  ],
  digitalocean_tag: [
    {
      id: 'tag.name-regex', kind: 'validate', file: 'digitalocean/tag/tags.go', func: 'ValidateTag', anchor: 'tagNameRe.MatchString',
      summary:
        'name must match the tagNameRe pattern (letters of either case, digits, colon, dash, underscore, 1 to 255 characters) although the error message says lowercase.',
    },
    {
      id: 'tag.read', kind: 'read-normalization', func: 'resourceDigitalOceanTagRead', anchor: 'tag.Resources.Count',
      summary:
        'The ID is the tag name; Read sets name and the resource counts from the API; 404 removes it from state.',
    },
    {
      id: 'tag.import', kind: 'import', anchor: 'ImportStatePassthroughContext',
      summary:
        'Import takes the tag name unchanged.',
    },
  ],
};

function locateRule(root: string, defaultFile: string, spec: RuleSpec): string {
  const rel = spec.file ?? defaultFile;
  const src = readFileSync(path.join(root, rel), 'utf8');
  let from = 0;
  let to = src.length;
  if (spec.func) {
    const decl = new RegExp(`^func (?:\\([^)]*\\) )?${spec.func}\\(`, 'm');
    const m = decl.exec(src);
    if (!m) throw new Error(`rule ${spec.id}: func ${spec.func} not found in ${rel}`);
    from = m.index;
    const next = src.indexOf('\nfunc ', from + 1);
    to = next < 0 ? src.length : next;
  }
  const hits: number[] = [];
  for (let at = src.indexOf(spec.anchor, from); at >= 0 && at < to; at = src.indexOf(spec.anchor, at + 1)) hits.push(at);
  if (!hits.length) throw new Error(`rule ${spec.id}: anchor ${JSON.stringify(spec.anchor)} not found in ${rel}${spec.func ? ` (func ${spec.func})` : ''}`);
  if (spec.nth === undefined && hits.length > 1) throw new Error(`rule ${spec.id}: anchor ${JSON.stringify(spec.anchor)} matches ${hits.length} times in ${rel}; give nth`);
  const at = hits[(spec.nth ?? 1) - 1];
  if (at === undefined) throw new Error(`rule ${spec.id}: anchor has only ${hits.length} matches`);
  return `${rel}:${src.slice(0, at).split('\n').length}`;
}

// ───────────────────────────── driver ─────────────────────────────

/** JSON with object keys sorted at every level, so regenerating gives a minimal diff. */
function stableStringify(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) out[k] = sort((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 2) + '\n';
}

function main(argv: string[]): void {
  const [sourceDir, tag, commit] = argv;
  if (!sourceDir || !tag || !commit) {
    console.error('usage: extract-semantics.ts <source dir> <tag> <commit>');
    process.exit(2);
  }
  if (!/^v\d+\.\d+\.\d+$/.test(tag)) throw new Error(`tag ${tag} is not vX.Y.Z`);
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`commit ${commit} is not a full sha`);
  const root = path.resolve(sourceDir);
  if (!existsSync(path.join(root, 'digitalocean', 'provider.go'))) throw new Error(`${root} does not look like the provider source (no digitalocean/provider.go)`);

  const tree = new SourceTree(root);
  const interp = new Interpreter(tree);
  const extractor = new Extractor(interp, tree);
  const providerPkg = tree.load(`${MODULE}/digitalocean`);
  const providerFn = providerPkg?.funcs.get('Provider');
  if (!providerFn) throw new Error('func Provider not found');
  const provider = interp.invoke(providerFn, []);
  if (provider.k !== 'comp') throw new Error('Provider() did not evaluate to a struct');

  const providerSchema = provider.fields.get('Schema');
  if (!providerSchema) throw new Error('provider has no Schema');
  const providerOut = { file: providerFn.file.rel, attributes: extractor.attributes(interp.force(providerSchema)) };

  const failures: string[] = [];
  const collect = (field: string, required: readonly string[]): Record<string, ResourceOut> => {
    const th = provider.fields.get(field);
    if (!th) throw new Error(`provider has no ${field}`);
    const map = interp.force(th);
    if (map.k !== 'comp') throw new Error(`${field} is not a map`);
    const out: Record<string, ResourceOut> = {};
    for (const en of map.entries) {
      if (en.key.k !== 'str') continue;
      const name = en.key.v;
      try {
        const ctorExpr = en.thunk.expr;
        let fileRel = '?';
        if (ctorExpr && ctorExpr.t === 'call' && en.thunk.scope) {
          const fn = interp.eval(ctorExpr.fn, en.thunk.scope, null);
          if (fn.k === 'func') fileRel = fn.decl.file.rel;
        }
        const r = extractor.resource(interp.force(en.thunk));
        out[name] = { file: fileRel, schemaVersion: r.schemaVersion, attributes: r.attributes, rules: [] };
      } catch (e) {
        if (!(e instanceof Unsupported || e instanceof GoSyntaxError)) throw e;
        const message = `${field} ${name}: ${e.message}`;
        if (required.includes(name)) throw new Error(message);
        failures.push(message);
      }
    }
    for (const name of required) if (!out[name]) throw new Error(`${field} has no ${name}`);
    return out;
  };
  const resources = collect('ResourcesMap', REQUIRED_RESOURCES);
  const dataSources = collect('DataSourcesMap', REQUIRED_DATA_SOURCES);

  const ruleErrors: string[] = [];
  for (const name of REQUIRED_RESOURCES) {
    resources[name].rules = RULES[name].map((spec) => {
      let where = '';
      try {
        where = locateRule(root, resources[name].file, spec);
      } catch (e) {
        ruleErrors.push((e as Error).message);
      }
      return { id: spec.id, kind: spec.kind, summary: spec.summary, where };
    });
    const ids = new Set<string>();
    for (const r of resources[name].rules) {
      if (ids.has(r.id)) throw new Error(`duplicate rule id ${r.id}`);
      ids.add(r.id);
    }
  }

  if (ruleErrors.length) throw new Error(`rules do not match the source:\n  ${ruleErrors.join('\n  ')}`);

  const out = {
    source: { repository: REPOSITORY, tag, commit },
    provider: providerOut,
    resources,
    dataSources,
  };
  writeFileSync(OUTPUT, stableStringify(out));
  const count = (o: Record<string, unknown>) => Object.keys(o).length;
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}: ${count(resources)} resources, ${count(dataSources)} data sources`);
  for (const f of failures) console.warn(`skipped ${f}`);
}

if (require.main === module) main(process.argv.slice(2));
