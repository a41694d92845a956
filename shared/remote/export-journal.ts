// The export messages' durability: SQS keeps a message until it is deleted; in one process a Ctrl-C or a crash would
// forget the export messages of batches already in the outbox, and a later scan sees those findings as unchanged and
// never sends them. The journal appends each export message (fsynced) and its settlement; the next run re-sends the
// ones never settled (exportBatch skips batches already sent, so a re-send is harmless).
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import type { ExportMessage } from '#shared/scan/ports';

export class ExportJournal {
  readonly #open = new Map<string, ExportMessage>();

  /** `file` null keeps the journal in memory (state that does not survive the process anyway). */
  constructor(private readonly file: string | null) {
    if (file !== null && existsSync(file)) this.#replay(readFileSync(file, 'utf8'));
  }

  #replay(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let entry: { op?: unknown; scanId?: unknown; batchId?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // a torn last line from a crash mid-append: the message it named was never acknowledged as sent
      }
      if (typeof entry.batchId !== 'string') continue;
      if (entry.op === 'send' && typeof entry.scanId === 'string') {
        this.#open.set(entry.batchId, { type: 'export', scanId: entry.scanId, batchId: entry.batchId });
      } else if (entry.op === 'done') {
        this.#open.delete(entry.batchId);
      }
    }
  }

  /** Export messages sent and never settled (by this run or an earlier one). */
  unsettled(): ExportMessage[] {
    return [...this.#open.values()];
  }

  record(messages: readonly ExportMessage[]): void {
    const fresh = messages.filter((m) => !this.#open.has(m.batchId));
    for (const m of messages)
      this.#open.set(m.batchId, { type: 'export', scanId: m.scanId, batchId: m.batchId });
    if (this.file === null || fresh.length === 0) return;
    const text = fresh
      .map((m) => JSON.stringify({ op: 'send', scanId: m.scanId, batchId: m.batchId }))
      .join('\n');
    const fd = openSync(this.file, 'a', 0o600);
    try {
      appendFileSync(fd, `${text}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** The batch was sent or given up on; a lost settlement only causes a harmless re-send. */
  settle(batchId: string): void {
    if (!this.#open.delete(batchId) || this.file === null) return;
    appendFileSync(this.file, `${JSON.stringify({ op: 'done', batchId })}\n`, { mode: 0o600 });
  }

  /** Rewrites the file with only the unsettled messages (atomically), so it does not grow run after run. */
  compact(): void {
    if (this.file === null) return;
    const tmp = `${this.file}.tmp`;
    const lines = this.unsettled().map((m) =>
      JSON.stringify({ op: 'send', scanId: m.scanId, batchId: m.batchId }),
    );
    writeFileSync(tmp, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
