/**
 * A minimal ustar writer for build contexts (a Dockerfile and a few small files): the engine's
 * /build takes a tar stream, and these contexts are tiny, so a dependency (tar-stream) would buy
 * nothing. Names must fit ustar's 100 bytes (thv writes only short, fixed names).
 */
export interface TarEntry {
  name: string;
  content: Buffer | string;
  mode?: number;
}

export function tarArchive(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const content = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content, 'utf8');
    if (Buffer.byteLength(entry.name) > 100) throw new Error(`tar entry name too long: ${entry.name}`);
    const header = Buffer.alloc(512, 0);
    header.write(entry.name, 0, 100, 'utf8');
    header.write(octal(entry.mode ?? 0o644, 8), 100, 8, 'ascii');
    header.write(octal(0, 8), 108, 8, 'ascii'); // uid
    header.write(octal(0, 8), 116, 8, 'ascii'); // gid
    header.write(octal(content.length, 12), 124, 12, 'ascii');
    header.write(octal(0, 12), 136, 12, 'ascii'); // mtime: fixed, so equal contexts hit the build cache
    header.write('        ', 148, 8, 'ascii'); // checksum placeholder: spaces while summing
    header.write('0', 156, 1, 'ascii'); // regular file
    header.write('ustar\u000000', 257, 8, 'binary');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'binary');
    blocks.push(header, content);
    const padding = (512 - (content.length % 512)) % 512;
    if (padding) blocks.push(Buffer.alloc(padding, 0));
  }
  blocks.push(Buffer.alloc(1024, 0));
  return Buffer.concat(blocks);
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}
