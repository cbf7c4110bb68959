/** Request headers typed in the form as `Name: value` lines. */

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseHeaderLines(text: string, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!name || !TOKEN.test(name)) throw new Error(`${field}, line ${i + 1}: "${line.slice(0, 40)}" is not "Name: value"`);
    out[name.toLowerCase()] = line.slice(colon + 1).trim();
  });
  return out;
}
