/** Test fixture folders, found from the compiled test location (dist/test/...) or the sources. */
import fs from 'fs';
import path from 'path';

/** `test/fixtures/<name>`, recognised by a file it holds. */
export function findFixtures(name: string, marker: string, from = __dirname): string {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'test', 'fixtures', name);
    if (fs.existsSync(path.join(candidate, marker))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`test/fixtures/${name} not found above ${from}`);
}
