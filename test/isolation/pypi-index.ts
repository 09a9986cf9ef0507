import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A real PyPI for tests: a PEP 503 "simple" index on 127.0.0.1 serving one wheel built here (a zip
 * written by Python's own zipfile). The wheel holds a tiny MCP server on stdio, console script
 * `thv-probe-server`, whose one tool reads a file — so a test can see what the server can reach.
 */

/** The server: newline-delimited JSON-RPC on stdio (MCP's stdio transport), standard library only. */
const SERVER_PY = String.raw`
import json, sys

def reply(id, result):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": id, "result": result}) + "\n")
    sys.stdout.flush()

def read_file(path):
    try:
        with open(path) as f:
            return "OK " + f.read()
    except OSError as e:
        return "ERROR " + type(e).__name__

def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        method, id = msg.get("method"), msg.get("id")
        if id is None:
            continue
        if method == "initialize":
            reply(id, {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}}, "serverInfo": {"name": "thv-probe-server", "version": "0.1.0"}})
        elif method == "tools/list":
            reply(id, {"tools": [{"name": "read_file", "description": "read a file", "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}]})
        elif method == "tools/call":
            text = read_file(msg["params"]["arguments"]["path"])
            reply(id, {"content": [{"type": "text", "text": text}]})
        else:
            sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no such method"}}) + "\n")
            sys.stdout.flush()
`;

/** Writes a py3-none-any wheel with a correct RECORD (sha256 of every file) into `dir`. */
const BUILD_WHEEL_PY = String.raw`
import base64, hashlib, sys, zipfile
out, source = sys.argv[1], sys.argv[2]
dist = "thv_probe_server-0.1.0.dist-info"
files = {
    "thv_probe_server/__init__.py": source,
    dist + "/METADATA": "Metadata-Version: 2.1\nName: thv-probe-server\nVersion: 0.1.0\nSummary: test server\n",
    dist + "/WHEEL": "Wheel-Version: 1.0\nGenerator: thv-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    dist + "/entry_points.txt": "[console_scripts]\nthv-probe-server = thv_probe_server:main\n",
}
record = []
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name, text in files.items():
        data = text.encode()
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(dist + "/RECORD,,")
    z.writestr(dist + "/RECORD", "\n".join(record) + "\n")
`;

export const WHEEL = 'thv_probe_server-0.1.0-py3-none-any.whl';

export interface PypiIndex {
  /** The index URL, for PIP_INDEX_URL / UV_INDEX_URL. */
  url: string;
  /** Every request path, in order: shows the install went through this index. */
  requests: string[];
  close(): Promise<void>;
}

export async function startPypiIndex(dir: string): Promise<PypiIndex> {
  const wheelPath = join(dir, WHEEL);
  execFileSync('python3', ['-c', BUILD_WHEEL_PY, wheelPath, SERVER_PY], { stdio: 'pipe' });
  const wheel = await readFile(wheelPath);
  const sha = createHash('sha256').update(wheel).digest('hex');
  const requests: string[] = [];
  const page = (links: string) => `<!DOCTYPE html><html><body>${links}</body></html>`;
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const path = (req.url ?? '').split('?')[0];
    if (path === '/simple/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page('<a href="/simple/thv-probe-server/">thv-probe-server</a>'));
    if (path === '/simple/thv-probe-server/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page(`<a href="/files/${WHEEL}#sha256=${sha}">${WHEEL}</a>`));
    if (path === `/files/${WHEEL}`) return res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': wheel.length }).end(wheel);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple/`,
    requests,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
