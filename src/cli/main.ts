// Entry of the thv CLI (dist/thv.js): the program itself lives in program.ts, importable without
// running anything.
import { processContext } from './context.js';
import { runCli } from './program.js';

const ctx = processContext();
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});
const code = await runCli(process.argv.slice(2), ctx);
// Long-lived commands (serve, foreground run) keep the loop alive and never reach here early.
process.exitCode = code;
