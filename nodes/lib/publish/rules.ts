/**
 * The small text rules of the publisher forms: per-device publish intervals
 * (`meter1=10, pv_*=60`) and per-point deadbands (`power_*=50, voltage_*=0.5, *=1%`).
 * Names may use * and ? wildcards; the first rule that matches wins.
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

function parseRules<V>(text: string, what: string, parseValue: (raw: string, entry: string) => V): NameRule<V>[] {
  const rules: NameRule<V>[] = [];
  for (const part of text.split(/[,;\n]/)) {
    const entry = part.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`${what}: "${entry}" is not name=value`);
    const pattern = entry.slice(0, eq).trim();
    const value = parseValue(entry.slice(eq + 1).trim(), entry);
    const re = globToRegExp(pattern);
    rules.push({ pattern, test: (name) => re.test(name), value });
  }
  return rules;
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
