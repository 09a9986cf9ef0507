import { describe, expect, it } from 'vitest';
import { formatAge, renderTable } from '../../src/cli/output.js';

describe('human output', () => {
  it('ages read as people say them', () => {
    expect(formatAge(1_000)).toBe('1 second');
    expect(formatAge(45_000)).toBe('45 seconds');
    expect(formatAge(60 * 60_000)).toBe('60 minutes');
    expect(formatAge(2 * 3600_000)).toBe('2 hours');
    expect(formatAge(24 * 3600_000)).toBe('24 hours');
    expect(formatAge(6 * 24 * 3600_000)).toBe('6 days');
    expect(formatAge(36 * 3600_000)).toBe('2 days');
  });

  it('a table is cut to the terminal by its last column, and kept whole when piped', () => {
    const rows = [['io.x/a', 'a description that is rather long']];
    const cut = renderTable(['NAME', 'DESCRIPTION'], rows, 24).split('\n');
    expect(cut[1]).toBe('io.x/a  a description t…');
    expect(cut[1]!.length).toBeLessThanOrEqual(24);
    const whole = renderTable(['NAME', 'DESCRIPTION'], rows, Number.POSITIVE_INFINITY).split('\n');
    expect(whole[1]).toBe('io.x/a  a description that is rather long');
    expect(whole[0]).toBe('NAME    DESCRIPTION');
  });
});
