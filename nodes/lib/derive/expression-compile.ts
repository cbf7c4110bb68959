/**
 * Turns a parsed expression into a tree of closures over the point table's
 * arrays. Closures are built once at deploy; evaluating one allocates nothing.
 * A missing or non-numeric input is NaN, and NaN (or an infinite result, such as
 * a division by zero) means "no value": the derived point is null with bad quality.
 */
import { BinaryOp, Expr, ExpressionError, parseExpression } from './expression-parse';
import { BAD, PointTable, SlotGroup } from './point-table';

type Fn = (v: Float64Array) => number;

/** How bare point names and `device.point` references find their slots. */
export interface Scope {
  table: PointTable;
  /** The device whose reading is being extended; undefined for site points (every name needs a device). */
  device?: string;
  /** Points a bare name may refer to, when known (the registry profile's points); others are an error. */
  knownPoints?: ReadonlySet<string>;
}

export interface CompiledExpression {
  readonly source: string;
  /** Evaluates against the table's current arrays: a number, or null when no value can be given. */
  value(): number | null;
  /** Worst quality of the inputs: GOOD, STALE or BAD (also BAD when value() is null). */
  quality(): number;
  /** Every slot read, for quality and for "which devices does this depend on". */
  readonly slots: readonly number[];
  readonly groups: readonly SlotGroup[];
}

const AGGREGATES = new Set(['sum', 'avg', 'min', 'max', 'count']);

const MATH: Record<string, { arity: [number, number]; fn: (...a: number[]) => number }> = {
  abs: { arity: [1, 1], fn: Math.abs },
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  exp: { arity: [1, 1], fn: Math.exp },
  ln: { arity: [1, 1], fn: Math.log },
  log10: { arity: [1, 1], fn: Math.log10 },
  floor: { arity: [1, 1], fn: Math.floor },
  ceil: { arity: [1, 1], fn: Math.ceil },
  pow: { arity: [2, 2], fn: Math.pow },
  atan2: { arity: [2, 2], fn: Math.atan2 },
  round: {
    arity: [1, 2],
    fn: (x, digits = 0) => {
      const f = 10 ** digits;
      return Math.round(x * f) / f;
    },
  },
  clamp: { arity: [3, 3], fn: (x, lo, hi) => Math.min(hi, Math.max(lo, x)) },
  hypot: { arity: [1, 16], fn: Math.hypot },
};

export const FUNCTION_NAMES: readonly string[] = [...Object.keys(MATH), 'if', ...AGGREGATES].sort();

export function compileExpression(source: string, scope: Scope): CompiledExpression {
  const tree = parseExpression(source);
  const slots: number[] = [];
  const groups: SlotGroup[] = [];
  const table = scope.table;

  function ref(e: Extract<Expr, { kind: 'ref' }>): Fn {
    const device = e.device ?? scope.device;
    if (device === undefined) throw new ExpressionError(`"${e.point}" needs a device: write device.${e.point}`, e.pos);
    if (e.device === undefined && scope.knownPoints && !scope.knownPoints.has(e.point)) {
      throw new ExpressionError(`unknown point "${e.point}"`, e.pos);
    }
    if (/[*?]/.test(device)) throw new ExpressionError(`the device pattern "${device}" can only be used inside sum, avg, min, max or count`, e.pos);
    const slot = table.slot(device, e.point);
    slots.push(slot);
    return (v) => v[slot];
  }

  function aggregate(e: Extract<Expr, { kind: 'call' }>): Fn {
    const arg = e.args.length === 1 ? e.args[0] : undefined;
    if (arg && arg.kind === 'ref' && arg.device !== undefined && /[*?]/.test(arg.device)) {
      const g = table.group(arg.device, arg.point);
      groups.push(g);
      const s = g.slots;
      switch (e.name) {
        case 'sum':
          return (v) => {
            let t = 0;
            for (let i = 0; i < s.length; i++) t += v[s[i]];
            return t;
          };
        case 'avg':
          return (v) => {
            let t = 0;
            for (let i = 0; i < s.length; i++) t += v[s[i]];
            return s.length ? t / s.length : NaN;
          };
        case 'count':
          return () => s.length;
        case 'min':
          return (v) => (s.length ? Math.min(...s.map((i) => v[i])) : NaN);
        default:
          return (v) => (s.length ? Math.max(...s.map((i) => v[i])) : NaN);
      }
    }
    if (!e.args.length) throw new ExpressionError(`${e.name}() needs at least one value`, e.pos);
    const parts = e.args.map(build);
    switch (e.name) {
      case 'sum':
        return (v) => {
          let t = 0;
          for (let i = 0; i < parts.length; i++) t += parts[i](v);
          return t;
        };
      case 'avg':
        return (v) => {
          let t = 0;
          for (let i = 0; i < parts.length; i++) t += parts[i](v);
          return t / parts.length;
        };
      case 'count':
        return () => parts.length;
      case 'min':
        return (v) => {
          let m = Infinity;
          for (let i = 0; i < parts.length; i++) m = Math.min(m, parts[i](v));
          return m;
        };
      default:
        return (v) => {
          let m = -Infinity;
          for (let i = 0; i < parts.length; i++) m = Math.max(m, parts[i](v));
          return m;
        };
    }
  }

  function call(e: Extract<Expr, { kind: 'call' }>): Fn {
    if (AGGREGATES.has(e.name)) return aggregate(e);
    if (e.name === 'if') {
      if (e.args.length !== 3) throw new ExpressionError(`if() takes 3 arguments (condition, then, else), not ${e.args.length}`, e.pos);
      const [c, a, b] = e.args.map(build);
      return (v) => (c(v) ? a(v) : b(v));
    }
    const m = Object.prototype.hasOwnProperty.call(MATH, e.name) ? MATH[e.name] : undefined;
    if (!m) throw new ExpressionError(`unknown function "${e.name}" (known: ${FUNCTION_NAMES.join(', ')})`, e.pos);
    const [lo, hi] = m.arity;
    if (e.args.length < lo || e.args.length > hi) {
      const want = lo === hi ? `${lo}` : `${lo} to ${hi}`;
      throw new ExpressionError(`${e.name}() takes ${want} argument${hi === 1 ? '' : 's'}, not ${e.args.length}`, e.pos);
    }
    const parts = e.args.map(build);
    const fn = m.fn;
    if (parts.length === 1) {
      const [a] = parts;
      return (v) => fn(a(v));
    }
    if (parts.length === 2) {
      const [a, b] = parts;
      return (v) => fn(a(v), b(v));
    }
    return (v) => fn(...parts.map((p) => p(v)));
  }

  function binary(op: BinaryOp, a: Fn, b: Fn): Fn {
    switch (op) {
      case '+':
        return (v) => a(v) + b(v);
      case '-':
        return (v) => a(v) - b(v);
      case '*':
        return (v) => a(v) * b(v);
      case '/':
        return (v) => a(v) / b(v);
      case '%':
        return (v) => a(v) % b(v);
      case '^':
        return (v) => a(v) ** b(v);
      case '<':
        return (v) => (a(v) < b(v) ? 1 : 0);
      case '<=':
        return (v) => (a(v) <= b(v) ? 1 : 0);
      case '>':
        return (v) => (a(v) > b(v) ? 1 : 0);
      case '>=':
        return (v) => (a(v) >= b(v) ? 1 : 0);
      case '==':
        return (v) => (a(v) === b(v) ? 1 : 0);
      case '!=':
        return (v) => (a(v) !== b(v) ? 1 : 0);
      case '&&':
        return (v) => (a(v) && b(v) ? 1 : 0);
      default:
        return (v) => (a(v) || b(v) ? 1 : 0);
    }
  }

  function build(e: Expr): Fn {
    switch (e.kind) {
      case 'num': {
        const n = e.value;
        return () => n;
      }
      case 'ref':
        return ref(e);
      case 'unary': {
        const a = build(e.arg);
        if (e.op === '-') return (v) => -a(v);
        if (e.op === '!') return (v) => (a(v) ? 0 : 1);
        return a;
      }
      case 'binary':
        return binary(e.op, build(e.left), build(e.right));
      case 'cond': {
        const [c, a, b] = [build(e.test), build(e.then), build(e.else)];
        return (v) => (c(v) ? a(v) : b(v));
      }
      case 'call':
        return call(e);
    }
  }

  const fn = build(tree);
  return {
    source,
    slots,
    groups,
    value() {
      const x = fn(table.values);
      return Number.isFinite(x) ? x : null;
    },
    quality() {
      const q = table.quality;
      let worst = 0;
      for (let i = 0; i < slots.length; i++) if (q[slots[i]] > worst) worst = q[slots[i]];
      for (const g of groups) for (const s of g.slots) if (q[s] > worst) worst = q[s];
      return worst;
    },
  };
}

/** value() and quality() together: no value is bad, and a value from a bad input is no value. */
export function evaluate(expr: CompiledExpression): { value: number | null; quality: number } {
  const quality = expr.quality();
  const value = quality === BAD ? null : expr.value();
  return { value, quality: value === null ? BAD : quality };
}
