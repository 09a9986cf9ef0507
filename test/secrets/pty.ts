import { spawn } from 'node:child_process';
import { THV_BIN } from '../fixtures/cli.js';

/**
 * Runs the built CLI on a pseudo-terminal through util-linux `script`, so stdin and stderr are
 * TTYs as for a person at a terminal. `answer` waits for a prompt to appear, then types a line.
 */
export interface PtySession {
  answer(prompt: string, line: string): Promise<void>;
  type(text: string): void;
  exit: Promise<{ code: number | null; output: string }>;
  output(): string;
}

export function runThvInPty(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): PtySession {
  const command = [process.execPath, THV_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let consumed = 0;
  const waiters: Array<() => void> = [];
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const exit = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`thv ${args.join(' ')} on a pty did not finish in ${timeoutMs} ms; output so far: ${JSON.stringify(output)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const wake of waiters.splice(0)) wake();
      resolve({ code, output });
    });
  });
  const waitFor = async (text: string) => {
    for (;;) {
      const at = output.indexOf(text, consumed);
      if (at >= 0) {
        consumed = at + text.length;
        return;
      }
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before showing ${JSON.stringify(text)}: ${JSON.stringify(output)}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return {
    answer: async (prompt, line) => {
      await waitFor(prompt);
      child.stdin.write(`${line}\r`);
    },
    type: (text) => void child.stdin.write(text),
    exit,
    output: () => output,
  };
}
