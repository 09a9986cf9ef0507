import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ThvError } from '../core/errors.js';

/** Binds `server` to host:port (0 = a free port chosen by the OS) and returns the bound port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(
          new ThvError('port_in_use', `port ${port} on ${host} is already in use`, {
            cause: err,
            hint: 'Choose another port with --proxy-port, or leave it out to use a free one.',
          }),
        );
      } else if (err.code === 'EACCES') {
        reject(new ThvError('port_in_use', `not allowed to listen on ${host}:${port}`, { cause: err, hint: 'Use a port above 1023.' }));
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new ThvError('bad_request', `cannot listen on host ${host}`, { cause: err, hint: 'Use --host 127.0.0.1.' }));
      } else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
