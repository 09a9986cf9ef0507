/** The longest stdout line the bridge accepts; a longer one is dropped (a broken or hostile server). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Splits a stream of text chunks into lines. Only the new chunk is searched for a newline, and the
 * unfinished line is kept as a list of pieces, so a long line costs linear time; a line that grows
 * past `maxLineBytes` is dropped up to its newline instead of growing the buffer without bound.
 */
export class LineSplitter {
  private parts: string[] = [];
  private bytes = 0;
  private dropping = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: (limitBytes: number) => void,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** Bytes of the unfinished line held in memory. */
  get bufferedBytes(): number {
    return this.dropping ? 0 : this.bytes;
  }

  push(chunk: string): void {
    let start = 0;
    let nl = chunk.indexOf('\n');
    while (nl !== -1) {
      this.append(chunk.slice(start, nl));
      const complete = this.dropping ? undefined : this.parts.join('');
      this.reset();
      if (complete !== undefined) this.onLine(complete);
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) this.append(start === 0 ? chunk : chunk.slice(start));
  }

  reset(): void {
    this.parts = [];
    this.bytes = 0;
    this.dropping = false;
  }

  private append(piece: string): void {
    if (!piece) return;
    this.bytes += Buffer.byteLength(piece);
    if (this.dropping) return;
    if (this.bytes > this.maxLineBytes) {
      this.dropping = true;
      this.parts = [];
      this.onTooLong(this.maxLineBytes);
      return;
    }
    this.parts.push(piece);
  }
}
