/**
 * Where permanently rejected messages are set aside: one JSON line per rejection, next to
 * the queue, so that nothing the backend refused is silently lost and it can be inspected
 * and replayed by hand. Rotated to `<file>.1` when it reaches its size limit.
 */
import fs from 'fs';
import path from 'path';

export interface DeadLetter {
  /** Why it was refused: "HTTP 400 Bad Request", "topic name invalid", ... */
  reason: string;
  target: string;
  status?: number;
  /** The start of what the receiver answered. */
  response?: string;
  items: Array<{ id: string; item: unknown }>;
}

export class DeadLetterFile {
  constructor(readonly file: string, private readonly maxBytes = 10 * 1024 * 1024) {}

  async add(letter: DeadLetter): Promise<void> {
    const line = `${JSON.stringify({ at: new Date().toISOString(), ...letter })}\n`;
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
    const size = await fs.promises.stat(this.file).then((s) => s.size, () => 0);
    if (size > 0 && size + line.length > this.maxBytes) await fs.promises.rename(this.file, `${this.file}.1`);
    await fs.promises.appendFile(this.file, line);
  }
}
