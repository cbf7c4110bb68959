/**
 * The small text rules of the publisher forms: per-device publish intervals
 * (`meter1=10, pv_*=60`) and per-point deadbands (`power_*=50, voltage_*=0.5, *=1%`).
 * Names may use * and ? wildcards; the first rule that matches wins. A name that contains a
 * comma, semicolon or equals sign is written in double quotes: `"Hall A, meter 1"=10`.
 */

export interface NameRule<V> {
  pattern: string;
  test: (name: string) => boolean;
  value: V;
}

export interface Deadband {
  amount: number;
  /** Relative to the last published value rather than absolute. */
  percent: boolean;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

const SEPARATORS = new Set([',', ';', '\n']);

interface RawRule {
  pattern: string;
  value: string;
  /** The entry as written, for error messages. */
  entry: string;
}

/**
 * Splits `name=value` entries at commas, semicolons and line breaks. A name in double
 * quotes may contain those and `=` (`"Hall A, meter 1"=10`); `""` inside stands for one quote.
 */
function splitRules(text: string, what: string): RawRule[] {
  const out: RawRule[] = [];
  let i = 0;
  while (i < text.length) {
    const start = i;
    let pattern = '';
    while (i < text.length && /\s/.test(text[i]) && !SEPARATORS.has(text[i])) i++;
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`${what}: ${text.slice(start).trim()} has no closing quote`);
        if (text[i] === '"' && text[i + 1] === '"') {
          pattern += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else pattern += text[i++];
      }
      while (i < text.length && text[i] !== '=' && !SEPARATORS.has(text[i])) {
        if (!/\s/.test(text[i])) throw new Error(`${what}: "${text.slice(start, i + 1).trim()}" has text after the closing quote; expected "name"=value`);
        i++;
      }
    } else {
      while (i < text.length && text[i] !== '=' && !SEPARATORS.has(text[i])) pattern += text[i++];
      pattern = pattern.trim();
    }
    let value = '';
    const hasValue = text[i] === '=';
    if (hasValue) for (i++; i < text.length && !SEPARATORS.has(text[i]); i++) value += text[i];
    const entry = text.slice(start, i).trim();
    i++; // the separator
    if (!entry) continue;
    if (!hasValue || !pattern) throw new Error(`${what}: "${entry}" is not name=value`);
    out.push({ pattern, value: value.trim(), entry });
  }
  return out;
}

function parseRules<V>(text: string, what: string, parseValue: (raw: string, entry: string) => V): NameRule<V>[] {
  return splitRules(text, what).map(({ pattern, value, entry }) => {
    const re = globToRegExp(pattern);
    return { pattern, test: (name: string) => re.test(name), value: parseValue(value, entry) };
  });
}

/** `device=seconds` entries; throws naming the bad entry. */
export function parseIntervalRules(text: string): NameRule<number>[] {
  return parseRules(text, 'per-device intervals', (raw, entry) => {
    const seconds = Number(raw.replace(/s$/, ''));
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new Error(`per-device intervals: "${entry}" needs a number of seconds >= 0`);
    }
    return Math.round(seconds * 1000);
  });
}

/** `point=amount` or `point=amount%` entries; throws naming the bad entry. */
export function parseDeadbandRules(text: string): NameRule<Deadband>[] {
  return parseRules(text, 'deadbands', (raw, entry) => {
    const percent = raw.endsWith('%');
    const amount = Number(percent ? raw.slice(0, -1) : raw);
    if (!Number.isFinite(amount) || amount < 0) throw new Error(`deadbands: "${entry}" needs a number >= 0 (or a percentage like 1%)`);
    return { amount, percent };
  });
}

export function firstMatch<V>(rules: NameRule<V>[], name: string): V | undefined {
  for (const r of rules) if (r.test(name)) return r.value;
  return undefined;
}
