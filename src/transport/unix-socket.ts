import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import type { Server } from 'node:net';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { ThvError } from '../core/errors.js';

/**
 * A unix socket only its owner can connect to (docs/api.md#who-may-call-it): the folder is 0700 and
 * the socket 0600, set by the umask at bind time so there is no moment with wider permissions.
 */
export async function listenOnUnixSocket(server: Server, path: string): Promise<string> {
  const socketPath = resolve(path);
  await prepareSocketFolder(dirname(socketPath));
  await removeStaleSocket(socketPath);
  await new Promise<void>((resolvePromise, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        err.code === 'EADDRINUSE'
          ? new ThvError('port_in_use', `${socketPath} is already in use`, { cause: err, hint: 'Choose another --socket path.' })
          : err,
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolvePromise();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // bind(2) creates the socket file synchronously inside listen(), with the process umask.
    const previous = process.umask(0o177);
    try {
      server.listen(socketPath);
    } finally {
      process.umask(previous);
    }
  });
  await chmod(socketPath, 0o600);
  return socketPath;
}

/** Removes the socket file a stopped server left behind; libuv unlinks it on close, this covers kills. */
export async function removeSocketFile(socketPath: string): Promise<void> {
  try {
    if ((await lstat(socketPath)).isSocket()) await unlink(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function prepareSocketFolder(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const info = await lstat(folder);
  if (!info.isDirectory()) throw new ThvError('bad_request', `${folder} is not a folder`, { hint: 'Give --socket a path in a folder of its own.' });
  if (typeof process.getuid === 'function' && info.uid !== process.getuid()) {
    // A folder someone else owns (e.g. /tmp) lets them replace the socket with their own.
    throw new ThvError('bad_request', `the folder of the socket, ${folder}, belongs to another user`, {
      hint: 'Give --socket a path in a folder you own, e.g. $XDG_RUNTIME_DIR/toolhive/thv.sock.',
    });
  }
  if ((info.mode & 0o077) !== 0) await chmod(folder, 0o700);
}

/**
 * A socket file with no server behind it (a killed `thv serve`) is replaced; a live one, or anything
 * that is not a socket (a file, a symlink), is left alone and refused.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let info;
  try {
    info = await lstat(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!info.isSocket()) {
    throw new ThvError('bad_request', `${socketPath} exists and is not a socket`, { hint: 'Choose another --socket path.' });
  }
  if (await someoneListens(socketPath)) {
    throw new ThvError('port_in_use', `another server listens on ${socketPath}`, { hint: 'Stop it, or choose another --socket path.' });
  }
  await unlink(socketPath);
}

function someoneListens(socketPath: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
}
