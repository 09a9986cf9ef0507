/** Renders rows as a plain-text table that fits `width` columns, cutting the last column first. */
export function renderTable(headers: string[], rows: string[][], width: number): string {
  const cols = headers.length;
  const widths = headers.map((h) => h.length);
  for (const row of rows) for (let i = 0; i < cols; i++) widths[i] = Math.max(widths[i]!, (row[i] ?? '').length);
  const fixed = widths.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  const lastMax = Math.max(headers[cols - 1]!.length, width - fixed);
  widths[cols - 1] = Math.min(widths[cols - 1]!, lastMax);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const w = widths[i]!;
        const text = cell.length > w ? `${cell.slice(0, Math.max(0, w - 1))}…` : cell;
        return i === cols - 1 ? text : text.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A human age: "3 minutes", "2 hours", "6 days". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} minutes`;
  const h = Math.round(m / 60);
  if (h < 36) return `${h} hours`;
  return `${Math.round(h / 24)} days`;
}
