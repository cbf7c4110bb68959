/**
 * Name patterns for rules: `*` matches any run of characters, `?` one
 * character, everything else literally. Patterns are compiled once per rule;
 * the engine caches the outcome per device and point, so matching cost is paid
 * on first sight only.
 */
export type NameMatcher = (name: string) => boolean;

const ANY: NameMatcher = () => true;

export function isPattern(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

export function compilePattern(pattern: string | undefined): NameMatcher {
  if (pattern === undefined || pattern === '' || pattern === '*') return ANY;
  if (!isPattern(pattern)) return (name) => name === pattern;
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${body}$`);
  return (name) => re.test(name);
}
