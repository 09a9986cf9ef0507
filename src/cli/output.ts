/**
 * Renders rows as a plain-text table that fits `width` columns, cutting the last column first.
 * Written as plain loops: `thv registry list` renders 10,000 rows on a warm start.
 */
export function renderTable(headers: string[], rows: string[][], width: number): string {
  const cols = headers.length;
  const last = cols - 1;
  const widths = headers.map((h) => h.length);
  for (const row of rows) for (let i = 0; i < last; i++) if (row[i]!.length > widths[i]!) widths[i] = row[i]!.length;
  let fixed = 0;
  for (let i = 0; i < last; i++) fixed += widths[i]! + 2;
  const lastWidth = Math.max(headers[last]!.length, width - fixed);
  const line = (cells: string[]) => {
    let text = '';
    for (let i = 0; i < last; i++) text += cells[i]!.padEnd(widths[i]!) + '  ';
    const tail = cells[last]!;
    text += tail.length > lastWidth ? `${tail.slice(0, Math.max(0, lastWidth - 1))}…` : tail;
    return text.trimEnd();
  };
  const out: string[] = [line(headers)];
  for (const row of rows) out.push(line(row));
  return `${out.join('\n')}\n`;
}

export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A human age: "1 second", "3 minutes", "2 hours", "6 days". */
export function formatAge(ms: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return unit(s, 'second');
  const m = Math.round(s / 60);
  if (m < 90) return unit(m, 'minute');
  const h = Math.round(m / 60);
  if (h < 36) return unit(h, 'hour');
  return unit(Math.round(h / 24), 'day');
}
