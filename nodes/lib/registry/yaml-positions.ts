/**
 * YAML parsing that remembers where each node starts, so a validation error can
 * name the line of the field it is about. js-yaml's parser yields a flat event
 * stream with source offsets; the same events build the value and, here, a tree
 * of node positions that a field path can walk.
 */
import * as yaml from 'js-yaml';

/** One composed node: where it starts and, for a collection, what it holds. */
interface Frame {
  kind: 'scalar' | 'sequence' | 'mapping' | 'alias';
  start: number;
  /** Index of the node's first event, so a mapping key can be constructed on its own. */
  firstEvent: number;
  items: Frame[];
  pairs: Pair[];
  /** A mapping's key waiting for its value. */
  pendingKey?: Pair['key'];
}

interface Pair {
  key: { frame: Frame; text: string | undefined };
  value: Frame;
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

/**
 * js-yaml 4 loaded with merge keys (`<<: *common`) on by default; model files may
 * share point settings that way, so the registry keeps them on.
 */
const SCHEMA = yaml.CORE_SCHEMA.withTags(yaml.mergeTag);

export function parseYamlWithPositions(text: string): PositionedDocument {
  let events: yaml.Event[];
  let documents: unknown[];
  try {
    events = yaml.parseEvents(text, {});
    documents = yaml.constructFromEvents(events, { source: text, schema: SCHEMA });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const line = err.mark ? err.mark.line + 1 : undefined;
      throw new YamlSyntaxError(err.reason || err.message, line);
    }
    throw err;
  }
  if (documents.length > 1) throw new YamlSyntaxError('expected a single document in the stream, but found more', undefined);
  const top = buildFrames(text, events);
  const lineStarts = indexLines(text);
  const lineAt = (pos: number): number => lineFor(lineStarts, skipBlank(text, pos));
  return {
    // An empty or comment-only file has no document: no value, and no line to point at.
    value: documents[0],
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

/** Rebuilds the node tree of the first document from the events; undefined when there is none. */
function buildFrames(text: string, events: yaml.Event[]): Frame | undefined {
  // Documents and collections both end with a pop, so both sit on the stack.
  const stack: Array<Frame | yaml.DocumentEvent> = [];
  let documentEvent: yaml.DocumentEvent | undefined;
  let top: Frame | undefined;
  const keys: KeyEvents[] = [];
  // An empty node has no offsets of its own; it sits after whatever came before it.
  let cursor = 0;
  const attach = (frame: Frame, lastEvent: number): void => {
    const parent = stack[stack.length - 1];
    if (!parent || !('kind' in parent)) {
      top ??= frame;
    } else if (parent.kind === 'sequence') {
      parent.items.push(frame);
    } else if (parent.pendingKey) {
      parent.pairs.push({ key: parent.pendingKey, value: frame });
      parent.pendingKey = undefined;
    } else {
      const key: Pair['key'] = { frame, text: undefined };
      keys.push({ key, events: events.slice(frame.firstEvent, lastEvent + 1) });
      parent.pendingKey = key;
    }
  };
  events.forEach((event, index) => {
    switch (event.type) {
      case yaml.EVENT_ID.DOCUMENT:
        documentEvent = event;
        stack.push(event);
        break;
      case yaml.EVENT_ID.SEQUENCE:
      case yaml.EVENT_ID.MAPPING: {
        const start = earliest(event.start, event.anchorStart, event.tagStart) ?? cursor;
        cursor = Math.max(cursor, start);
        stack.push(newFrame(event.type === yaml.EVENT_ID.SEQUENCE ? 'sequence' : 'mapping', start, index));
        break;
      }
      case yaml.EVENT_ID.SCALAR: {
        const start = earliest(scalarStart(text, event), event.anchorStart, event.tagStart) ?? cursor;
        cursor = Math.max(cursor, start, event.valueEnd);
        attach(newFrame('scalar', start, index), index);
        break;
      }
      case yaml.EVENT_ID.ALIAS: {
        const start = earliest(event.anchorStart) ?? cursor;
        cursor = Math.max(cursor, start, event.anchorEnd);
        attach(newFrame('alias', start, index), index);
        break;
      }
      case yaml.EVENT_ID.POP: {
        const closed = stack.pop();
        if (closed && 'kind' in closed) attach(closed, index);
        break;
      }
    }
  });
  if (documentEvent) nameKeys(text, documentEvent, keys);
  return top;
}

function newFrame(kind: Frame['kind'], start: number, firstEvent: number): Frame {
  return { kind, start, firstEvent, items: [], pairs: [] };
}

/** The smallest offset that is present (js-yaml marks an absent one with -1). */
function earliest(...offsets: number[]): number | undefined {
  let min: number | undefined;
  for (const o of offsets) if (o >= 0 && (min === undefined || o < min)) min = o;
  return min;
}

/**
 * A block scalar's content starts on the line after its `|` or `>` header;
 * the node starts at the header, like any other value.
 */
function scalarStart(text: string, event: yaml.ScalarEvent): number {
  const block = event.style === yaml.SCALAR_STYLE.LITERAL_BLOCK || event.style === yaml.SCALAR_STYLE.FOLDED_BLOCK;
  if (!block || event.valueStart < 0) return event.valueStart;
  let p = event.valueStart - 1;
  while (p > 0 && /\s/.test(text[p])) p--;
  return p;
}

interface KeyEvents {
  key: Pair['key'];
  events: yaml.Event[];
}

/**
 * Names each mapping key as the loaded value spells it (`0x10` is the key "16"),
 * built from the key's own events so tags and implicit types resolve as they did
 * in the value. All keys are constructed at once as the items of one sequence;
 * if that fails (a key that is an alias of an anchor outside the keys), each key
 * is tried on its own and one that cannot stand alone stays unnamed.
 */
function nameKeys(text: string, documentEvent: yaml.DocumentEvent, keys: KeyEvents[]): void {
  if (!keys.length) return;
  const construct = (list: KeyEvents[]): unknown[] | undefined => {
    const sequence: yaml.SequenceEvent = {
      type: yaml.EVENT_ID.SEQUENCE, start: -1, anchorStart: -1, anchorEnd: -1, tagStart: -1, tagEnd: -1, style: yaml.COLLECTION_STYLE.BLOCK,
    };
    const pop: yaml.PopEvent = { type: yaml.EVENT_ID.POP };
    try {
      const [items] = yaml.constructFromEvents([documentEvent, sequence, ...list.flatMap((k) => k.events), pop, pop], { source: text, schema: SCHEMA });
      return items as unknown[];
    } catch (err) {
      if (err instanceof yaml.YAMLException) return undefined;
      throw err;
    }
  };
  const all = construct(keys);
  keys.forEach((k, i) => {
    const alone = all ? undefined : construct([k]);
    k.key.text = all ? String(all[i]) : alone ? String(alone[0]) : undefined;
  });
}

/** The child frame on one step of a path; for a mapping also the frame of its key. */
function childFor(frame: Frame, step: string | number): { key?: Frame; value: Frame } | undefined {
  if (frame.kind === 'sequence') {
    const item = typeof step === 'number' ? frame.items[step] : undefined;
    return item ? { value: item } : undefined;
  }
  if (frame.kind !== 'mapping') return undefined;
  const pair = frame.pairs.find((p) => p.key.text === String(step));
  return pair ? { key: pair.key.frame, value: pair.value } : undefined;
}

/** Skips blanks, line breaks, comments and sequence dashes before a node's first character. */
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
