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

export function templatedText(translate: Translate, prefix: string): (key: string, vars?: Record<string, string | number>) => string {
  const templates = new Map<string, { parts: string[]; names: string[] } | null>();
  return (key, vars = {}) => {
    const full = `${prefix}.${key}`;
    const names = Object.keys(vars);
    const cacheKey = `${full}${MARK}${names.join(MARK)}`;
    let template = templates.get(cacheKey);
    if (template === undefined) {
      const marked = Object.fromEntries(names.map((n, i) => [n, `${MARK}${i}${MARK}`]));
      const text = translate(full, marked);
      // Markers intact (a variable may appear any number of times), or the key is translated per call.
      const pieces = text.split(MARK);
      const ok = pieces.length % 2 === 1 && pieces.every((p, i) => i % 2 === 0 || names[Number(p)] !== undefined);
      template = ok ? { parts: pieces.filter((_, i) => i % 2 === 0), names: pieces.filter((_, i) => i % 2 === 1).map((i) => names[Number(i)]) } : null;
      templates.set(cacheKey, template);
    }
    if (!template) return translate(full, vars);
    let out = template.parts[0];
    for (let i = 0; i < template.names.length; i++) out += String(vars[template.names[i]]) + template.parts[i + 1];
    return out;
  };
}
