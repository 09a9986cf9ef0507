import { ThvError } from '../core/errors.js';

export interface HiddenPromptStreams {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

/**
 * Asks for a line without echoing it. Only for a person at a terminal: callers check that stdin
 * and stderr are TTYs first, so this never waits on a pipe. Ctrl-C and Ctrl-D cancel.
 */
export function promptHidden(question: string, streams: HiddenPromptStreams = { input: process.stdin, output: process.stderr }): Promise<string> {
  const { input, output } = streams;
  return new Promise((resolve, reject) => {
    let answer = '';
    const wasRaw = input.isRaw;
    const finish = (error?: ThvError) => {
      input.off('data', onData);
      if (input.isTTY) input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') {
          return finish(new ThvError('secrets_unavailable', 'password entry was cancelled', { hint: 'Run the command again and enter the password.' }));
        }
        if (ch === '\u007f' || ch === '\b') answer = [...answer].slice(0, -1).join('');
        else if (ch >= ' ') answer += ch;
      }
    };
    // Echo goes off before the question shows, so a quick typist never sees the password echoed.
    if (input.isTTY) input.setRawMode(true);
    output.write(question);
    input.on('data', onData);
    input.resume();
  });
}
