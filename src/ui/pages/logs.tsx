import { useEffect, useRef, useState } from 'preact/hooks';
import { enc } from '../api.js';
import { useWorkloads } from '../live.js';
import { navigate } from '../shell.js';

async function readLog(name: string): Promise<string> {
  const response = await fetch(`/api/v1beta/workloads/${enc(name)}/logs`, { headers: { accept: 'text/plain' } });
  if (!response.ok) throw new Error(`could not read the log of ${name} (HTTP ${response.status})`);
  return response.text();
}

export function LogsPage({ name }: { name: string | undefined }) {
  const { workloads } = useWorkloads();
  const [text, setText] = useState('');
  const [follow, setFollow] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    if (!name) return;
    let stopped = false;
    const load = () =>
      readLog(name).then(
        (t) => {
          if (stopped) return;
          setError(undefined);
          setText(t);
        },
        (err: Error) => !stopped && setError(err.message),
      );
    void load();
    const timer = follow ? setInterval(load, 2_000) : undefined;
    return () => {
      stopped = true;
      if (timer) clearInterval(timer);
    };
  }, [name, follow]);

  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, follow]);

  return (
    <section aria-labelledby="logs-title">
      <h1 id="logs-title">Logs</h1>
      <div class="filters">
        <label>
          Workload{' '}
          <select value={name ?? ''} onChange={(e) => navigate(`/logs/${enc(e.currentTarget.value)}`)}>
            <option value="">choose…</option>
            {(workloads ?? []).map((w) => (
              <option value={w.name}>{w.name}</option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
        </label>
      </div>
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      {name ? (
        <pre class="log" ref={pre} tabIndex={0} aria-label={`Log of ${name}`}>
          {text || '(the log is empty)'}
        </pre>
      ) : (
        <p>Choose a workload to see the end of its log.</p>
      )}
    </section>
  );
}
