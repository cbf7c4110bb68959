/**
 * YAML parsing that remembers where each node starts, so a validation error can
 * name the line of the field it is about. js-yaml reports every node it composes
 * through its `listener` option; the nodes are rebuilt into a tree here.
 */
import * as yaml from 'js-yaml';

interface Frame {
  start: number;
  result?: unknown;
  children: Frame[];
}

interface ListenerState {
  position: number;
  result: unknown;
}

export type FieldPath = ReadonlyArray<string | number>;

export class YamlSyntaxError extends Error {
  constructor(message: string, readonly line: number | undefined) {
    super(message);
  }
}

export interface PositionedDocument {
  value: unknown;
  /** 1-based line of the deepest node on `path` that exists (the key line for a mapping key). */
  lineOf(path: FieldPath): number | undefined;
}

export function parseYamlWithPositions(text: string): PositionedDocument {
  const root: Frame = { start: 0, children: [] };
  const stack: Frame[] = [root];
  const listener = (event: 'open' | 'close', state: ListenerState): void => {
    if (event === 'open') {
      stack.push({ start: state.position, children: [] });
      return;
    }
    const frame = stack.pop();
    if (!frame) return;
    frame.result = state.result;
    stack[stack.length - 1].children.push(frame);
  };
  let value: unknown;
  try {
    value = yaml.load(text, { listener } as yaml.LoadOptions);
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const line = err.mark ? err.mark.line + 1 : undefined;
      throw new YamlSyntaxError(err.reason || err.message, line);
    }
    throw err;
  }
  const lineStarts = indexLines(text);
  const lineAt = (pos: number): number => lineFor(lineStarts, skipBlank(text, pos));
  const top = root.children[0];
  return {
    value,
    lineOf(path: FieldPath): number | undefined {
      if (!top) return undefined;
      let frame = top;
      let line = lineAt(top.start);
      for (const step of path) {
        const next = childFor(frame, step);
        if (!next) break;
        line = lineAt(next.key ? next.key.start : next.value.start);
        frame = next.value;
      }
      return line;
    },
  };
}

/** The child frame on one step of a path; for a mapping also the frame of its key. */
function childFor(frame: Frame, step: string | number): { key?: Frame; value: Frame } | undefined {
  if (Array.isArray(frame.result)) {
    const item = typeof step === 'number' ? frame.children[step] : undefined;
    return item ? { value: item } : undefined;
  }
  if (frame.result === null || typeof frame.result !== 'object') return undefined;
  // A mapping composes key, value, key, value ... in order.
  for (let i = 0; i + 1 < frame.children.length; i += 2) {
    const key = frame.children[i];
    if (String(key.result) === String(step)) return { key, value: frame.children[i + 1] };
  }
  return undefined;
}

/** Skips blanks, line breaks and comments that js-yaml has not consumed yet when a node opens. */
function skipBlank(text: string, pos: number): number {
  let p = pos;
  while (p < text.length) {
    const c = text[p];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '-' && /\s/.test(text[p + 1] ?? '')) {
      p++;
    } else if (c === '#') {
      while (p < text.length && text[p] !== '\n') p++;
    } else {
      break;
    }
  }
  return p;
}

function indexLines(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

function lineFor(lineStarts: number[], pos: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}
