import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { ThvError } from '../core/errors.js';
import { MAX_DOCUMENT_BYTES } from './providers/provider.js';

/**
 * Reads a registry file with the same cap as a URL registry (docs/registry.md): only a regular file
 * (a device such as /dev/zero or a FIFO is refused before a byte is read; O_NONBLOCK keeps a FIFO from
 * blocking the open), no larger than MAX_DOCUMENT_BYTES by its size and by what is actually read.
 * Errors name the file and never quote its content.
 */
export async function readRegistryFile(file: string, maxBytes = MAX_DOCUMENT_BYTES): Promise<string> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ThvError('not_found', `registry file ${file} cannot be read (${code ?? 'error'})`, {
      hint: 'Check `local_registry_path` with `thv config get-registry`.',
    });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ThvError('bad_request', `registry file ${file} is not a regular file`, { hint: 'Give the path of a registry JSON file.' });
    const tooLarge = () => new ThvError('registry_invalid_response', `registry file ${file} is larger than the ${maxBytes / 1024 / 1024} MiB limit`);
    if (info.size > maxBytes) throw tooLarge();
    // The file may grow after the stat: read at most one byte past the cap to tell.
    const buf = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buf.length) {
        if (length > maxBytes) throw tooLarge();
        break;
      }
    }
    return buf.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}
