import { spawn } from 'node:child_process';

/** Runs a command to completion and returns its wall time in ms. */
export function timeProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve(ms);
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Alternates the two commands so machine noise hits both alike; returns the medians. */
export async function compare(
  runs: number,
  reference: () => Promise<number>,
  subject: () => Promise<number>,
): Promise<{ reference: number; subject: number; ratio: number }> {
  const ref: number[] = [];
  const sub: number[] = [];
  for (let i = 0; i < runs; i++) {
    ref.push(await reference());
    sub.push(await subject());
  }
  const r = median(ref);
  const s = median(sub);
  return { reference: r, subject: s, ratio: s / r };
}

export function report(name: string, figures: Record<string, string | number>): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(2)) : v}`)
    .join('  ');
  process.stdout.write(`${name.padEnd(44)} ${text}\n`);
}
