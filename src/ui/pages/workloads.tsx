import { useState } from 'preact/hooks';
import { del, enc, post } from '../api.js';
import { useWorkloads } from '../live.js';
import { ErrorLine, StatusBadge } from '../shell.js';
import type { Workload } from '../types.js';

const LIVE = new Set(['running', 'starting', 'unhealthy', 'auth_retrying', 'unauthenticated', 'stopping']);

export function WorkloadsPage() {
  const { workloads, live, refresh } = useWorkloads();
  const [error, setError] = useState<Error | undefined>();
  const act = async (what: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await what();
    } catch (err) {
      setError(err as Error);
    }
    refresh();
  };
  return (
    <section aria-labelledby="workloads-title">
      <h1 id="workloads-title">Workloads</h1>
      <p class="muted">{live === 'stream' ? 'Status updates live.' : 'Live updates unavailable; refreshing every 3 seconds.'}</p>
      {error && <ErrorLine error={error} />}
      {workloads === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : workloads.length === 0 ? (
        <p>No workloads yet. Run one from the Registry, or a command below.</p>
      ) : (
        <table class="workloads">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>URL</th>
              <th>Isolation</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {workloads.map((w) => (
              <WorkloadRow w={w} act={act} />
            ))}
          </tbody>
        </table>
      )}
      <RunCommandForm onStarted={refresh} />
    </section>
  );
}

function WorkloadRow({ w, act }: { w: Workload; act: (what: () => Promise<unknown>) => Promise<void> }) {
  const path = `/api/v1beta/workloads/${enc(w.name)}`;
  const isLive = LIVE.has(w.status);
  const login = /open (https?:\/\/\S+)/.exec(w.status_context)?.[1];
  return (
    <tr data-workload={w.name}>
      <td>
        <strong>{w.name}</strong>
        <div class="muted small">{w.package}</div>
      </td>
      <td>
        <StatusBadge status={w.status} />
        {w.status_context && <div class="muted small context">{w.status_context}</div>}
        {login && (
          <a href={login} target="_blank" rel="noopener noreferrer">
            Log in
          </a>
        )}
      </td>
      <td>
        <code class="url">{w.url}</code>{' '}
        <button class="ghost small" onClick={() => void navigator.clipboard?.writeText(w.url)} aria-label={`Copy the URL of ${w.name}`}>
          Copy
        </button>
      </td>
      <td class="small">{w.isolation ?? w.runtime ?? ''}</td>
      <td class="actions">
        {isLive ? (
          <button onClick={() => void act(() => post(`${path}/stop`))}>Stop</button>
        ) : (
          <button onClick={() => void act(() => post(`${path}/restart`))}>Start</button>
        )}
        {isLive && <button onClick={() => void act(() => post(`${path}/restart`))}>Restart</button>}
        <a class="button ghost" href={`#/logs/${enc(w.name)}`}>
          Logs
        </a>
        <button class="danger" onClick={() => confirm(`Remove ${w.name}? Its configuration and logs are deleted.`) && void act(() => del(path))}>
          Remove
        </button>
      </td>
    </tr>
  );
}

/** Splits a command line like a shell would for words and quotes, without running a shell. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return words;
}

function RunCommandForm({ onStarted }: { onStarted: () => void }) {
  const [name, setName] = useState('');
  const [command, setCommand] = useState('');
  const [runtime, setRuntime] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await post('/api/v1beta/workloads', { name, command: splitCommand(command), ...(runtime ? { runtime } : {}) });
      setName('');
      setCommand('');
      onStarted();
    } catch (err) {
      setError(err as Error);
    }
    setBusy(false);
  };
  return (
    <form class="run-form" onSubmit={submit} aria-labelledby="run-command-title">
      <h2 id="run-command-title">Run a stdio server</h2>
      <label>
        Name <input required value={name} onInput={(e) => setName(e.currentTarget.value)} pattern="[a-zA-Z0-9][a-zA-Z0-9_.\-]{0,62}" />
      </label>
      <label class="grow">
        Command (run without a shell) <input required value={command} placeholder="node server.js --flag" onInput={(e) => setCommand(e.currentTarget.value)} />
      </label>
      <label>
        Isolation{' '}
        <select value={runtime} onChange={(e) => setRuntime(e.currentTarget.value)}>
          <option value="">default (sandbox)</option>
          <option value="none">none (unconfined)</option>
        </select>
      </label>
      {error && <ErrorLine error={error} />}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Run'}
        </button>
      </div>
    </form>
  );
}
