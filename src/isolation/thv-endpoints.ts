import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isSpecialAddress } from './egress-proxy.js';

/**
 * thv's own endpoints — the API of `thv serve` and every workload's proxy port — must never be
 * reachable from a workload, whatever its profile says (docs/isolation.md). A local address qualifies
 * when its port is recorded in a run config, or a thv process (the CLI or a supervisor) listens on it;
 * the latter is read from /proc, so nothing has to be recorded for `thv serve`.
 */
export function thvEndpointCheck(options: { runConfigsDir: string; ownPorts: () => number[] }): (address: string, port: number) => boolean {
  return (address, port) => {
    if (!isSpecialAddress(address)) return false;
    if (options.ownPorts().includes(port)) return true;
    if (recordedPorts(options.runConfigsDir).has(port)) return true;
    return thvListensOn(port);
  };
}

function recordedPorts(dir: string): Set<number> {
  const ports = new Set<number>();
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return ports;
  }
  for (const file of files) {
    try {
      const port = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { port?: unknown }).port;
      if (typeof port === 'number') ports.add(port);
    } catch {
      // unreadable or half-written: the /proc check below still applies
    }
  }
  return ports;
}

/** Whether a process whose command line names thv or its supervisor listens on `port` (Linux /proc). */
export function thvListensOn(port: number): boolean {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; inode is field 9.
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return false;
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) {
        try {
          if (/supervisor|thv/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) return true;
        } catch {
          // gone meanwhile
        }
      }
    }
  }
  return false;
}
