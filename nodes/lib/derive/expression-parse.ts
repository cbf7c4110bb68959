/**
 * Derived-point expressions: a small arithmetic language parsed once at deploy
 * into a tree, never run through `eval` or `Function`, so an expression can
 * reach nothing but the point values it names.
 *
 * Grammar, loosest binding first:
 *   cond   := or ('?' cond ':' cond)?
 *   or     := and ('||' and)*
 *   and    := cmp ('&&' cmp)*
 *   cmp    := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
 *   sum    := prod (('+' | '-') prod)*
 *   prod   := unary (('*' | '/' | '%') unary)*
 *   unary  := ('-' | '+' | '!') unary | power
 *   power  := atom ('^' unary)?            (right-associative: 2^3^2 = 2^9)
 *   atom   := number | ref | call | '(' cond ')'
 *   ref    := name ('.' name)?             (point, or device.point)
 *   name   := [A-Za-z_][A-Za-z0-9_]* | `any text`   (backticks for names with - or spaces)
 *   call   := name '(' (cond (',' cond)*)? ')'
 * A device name may carry `*` and `?` inside backticks (`feeder-*`.power_total) inside the
 * aggregate functions sum, avg, min, max and count: a site total over every matching device.
 */

export class ExpressionError extends Error {
  /** 0-based character offset in the expression where the problem starts. */
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at position ${position + 1}`);
    this.name = 'ExpressionError';
    this.position = position;
  }
}

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '^' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&&' | '||';

export type Expr =
  | { kind: 'num'; value: number; pos: number }
  | { kind: 'ref'; device?: string; point: string; pos: number }
  | { kind: 'unary'; op: '-' | '+' | '!'; arg: Expr; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { kind: 'cond'; test: Expr; then: Expr; else: Expr; pos: number }
  | { kind: 'call'; name: string; args: Expr[]; pos: number };

type Token =
  | { t: 'num'; value: number; pos: number }
  | { t: 'name'; value: string; quoted: boolean; pos: number }
  | { t: 'op'; value: string; pos: number }
  | { t: 'end'; pos: number };

const OPERATORS = ['<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '%', '^', '<', '>', '!', '(', ')', ',', '.', '?', ':'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (number) {
      out.push({ t: 'num', value: Number(number[0]), pos: i });
      i += number[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', value: name[0], quoted: false, pos: i });
      i += name[0].length;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new ExpressionError('unclosed ` quote', i);
      if (end === i + 1) throw new ExpressionError('empty quoted name', i);
      out.push({ t: 'name', value: src.slice(i + 1, end), quoted: true, pos: i });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected character "${c}"`, i);
    out.push({ t: 'op', value: op, pos: i });
    i += op.length;
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

/** Parses an expression; throws ExpressionError with the position of the first problem. */
export function parseExpression(src: string): Expr {
  if (typeof src !== 'string' || src.trim() === '') throw new ExpressionError('empty expression', 0);
  const tokens = tokenize(src);
  let k = 0;
  const peek = (): Token => tokens[k];
  const isOp = (v: string): boolean => {
    const t = tokens[k];
    return t.t === 'op' && t.value === v;
  };
  const expectOp = (v: string): void => {
    const t = peek();
    if (t.t !== 'op' || t.value !== v) throw new ExpressionError(`expected "${v}" but found ${describe(t)}`, t.pos);
    k++;
  };

  function binaryLevel(next: () => Expr, ops: string[]): Expr {
    let left = next();
    for (;;) {
      const t = peek();
      if (t.t !== 'op' || !ops.includes(t.value)) return left;
      k++;
      left = { kind: 'binary', op: t.value as BinaryOp, left, right: next(), pos: t.pos };
    }
  }

  function cond(): Expr {
    const test = or();
    if (!isOp('?')) return test;
    const pos = peek().pos;
    k++;
    const then = cond();
    expectOp(':');
    return { kind: 'cond', test, then, else: cond(), pos };
  }
  const or = (): Expr => binaryLevel(and, ['||']);
  const and = (): Expr => binaryLevel(cmp, ['&&']);
  function cmp(): Expr {
    const left = sum();
    const t = peek();
    if (t.t === 'op' && ['<', '<=', '>', '>=', '==', '!='].includes(t.value)) {
      k++;
      return { kind: 'binary', op: t.value as BinaryOp, left, right: sum(), pos: t.pos };
    }
    return left;
  }
  const sum = (): Expr => binaryLevel(prod, ['+', '-']);
  const prod = (): Expr => binaryLevel(unary, ['*', '/', '%']);
  function unary(): Expr {
    const t = peek();
    if (t.t === 'op' && (t.value === '-' || t.value === '+' || t.value === '!')) {
      k++;
      return { kind: 'unary', op: t.value, arg: unary(), pos: t.pos };
    }
    return power();
  }
  function power(): Expr {
    const base = atom();
    if (!isOp('^')) return base;
    const pos = peek().pos;
    k++;
    return { kind: 'binary', op: '^', left: base, right: unary(), pos };
  }
  function atom(): Expr {
    const t = peek();
    if (t.t === 'num') {
      k++;
      return { kind: 'num', value: t.value, pos: t.pos };
    }
    if (t.t === 'op' && t.value === '(') {
      k++;
      const inner = cond();
      expectOp(')');
      return inner;
    }
    if (t.t === 'name') {
      k++;
      if (!t.quoted && isOp('(')) {
        k++;
        const args: Expr[] = [];
        if (!isOp(')')) {
          args.push(cond());
          while (isOp(',')) {
            k++;
            args.push(cond());
          }
        }
        expectOp(')');
        return { kind: 'call', name: t.value, args, pos: t.pos };
      }
      if (isOp('.')) {
        k++;
        const p = peek();
        if (p.t !== 'name') throw new ExpressionError(`expected a point name after "${t.value}." but found ${describe(p)}`, p.pos);
        k++;
        return { kind: 'ref', device: t.value, point: p.value, pos: t.pos };
      }
      return { kind: 'ref', point: t.value, pos: t.pos };
    }
    throw new ExpressionError(`expected a number, a point name or "(" but found ${describe(t)}`, t.pos);
  }

  const tree = cond();
  const rest = peek();
  if (rest.t !== 'end') throw new ExpressionError(`unexpected ${describe(rest)}`, rest.pos);
  return tree;
}

function describe(t: Token): string {
  switch (t.t) {
    case 'end':
      return 'the end of the expression';
    case 'num':
      return `number ${t.value}`;
    case 'name':
      return `"${t.value}"`;
    default:
      return `"${t.value}"`;
  }
}

/** Every point reference in a tree, in order of appearance. */
export function references(expr: Expr): Array<Extract<Expr, { kind: 'ref' }>> {
  const out: Array<Extract<Expr, { kind: 'ref' }>> = [];
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'ref':
        out.push(e);
        return;
      case 'unary':
        return walk(e.arg);
      case 'binary':
        walk(e.left);
        return walk(e.right);
      case 'cond':
        walk(e.test);
        walk(e.then);
        return walk(e.else);
      case 'call':
        return e.args.forEach(walk);
      default:
        return;
    }
  };
  walk(expr);
  return out;
}
