/**
 * Catalogue texts for statuses that change with every reading. Node-RED's
 * `RED._` runs i18next's whole lookup (and its plural rules, for a `count`)
 * per call: a thousand pollers spent more time there than polling. Each key is
 * translated once, with a marker for every variable, and later texts are made
 * by putting the values in. The catalogues use no plural forms, so the text
 * does not depend on the values.
 */
export type Translate = (key: string, vars?: Record<string, string | number>) => string;

const MARK = '\u0000';

interface Template {
  /** The variable names it was made with, in the caller's order. */
  names: string[];
  /** Text between the markers, or null when the translation did not keep them (translated per call). */
  parts: string[] | null;
  /** The variable of each marker, in text order. */
  slots: string[];
}

export function templatedText(translate: Translate, prefix: string): (key: string, vars?: Record<string, string | number>) => string {
  const templates = new Map<string, Template>();
  const make = (key: string, vars: Record<string, string | number>): Template => {
    const names = Object.keys(vars);
    const marked = Object.fromEntries(names.map((n, i) => [n, `${MARK}${i}${MARK}`]));
    const pieces = translate(`${prefix}.${key}`, marked).split(MARK);
    // Markers intact (a variable may appear any number of times), or the key is translated per call.
    const ok = pieces.length % 2 === 1 && pieces.every((p, i) => i % 2 === 0 || names[Number(p)] !== undefined);
    const template = {
      names,
      parts: ok ? pieces.filter((_, i) => i % 2 === 0) : null,
      slots: ok ? pieces.filter((_, i) => i % 2 === 1).map((i) => names[Number(i)]) : [],
    };
    templates.set(key, template);
    return template;
  };
  return (key, vars = {}) => {
    let template = templates.get(key);
    if (!template || !sameNames(vars, template.names)) template = make(key, vars);
    const { parts, slots } = template;
    if (!parts) return translate(`${prefix}.${key}`, vars);
    let out = parts[0];
    for (let i = 0; i < slots.length; i++) out += String(vars[slots[i]]) + parts[i + 1];
    return out;
  };
}

/** Whether `vars` has exactly these keys in this order, without allocating (this runs per reading). */
function sameNames(vars: object, names: readonly string[]): boolean {
  let i = 0;
  for (const key in vars) if (key !== names[i++]) return false;
  return i === names.length;
}
