import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiFailure, get, post } from '../api.js';
import type { CatalogServer } from '../types.js';
import { ErrorLine, navigate } from '../shell.js';

type Kind = 'image' | 'package' | 'remote';

function kindOf(server: CatalogServer): Kind {
  if (server.url) return 'remote';
  return server.packages?.some((p) => p.registry_type === 'npm' || p.registry_type === 'pypi') ? 'package' : 'image';
}

export function shortName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

function matches(server: CatalogServer, words: string[]): boolean {
  if (words.length === 0) return true;
  const haystack = [server.name, server.title, server.description, ...(server.tags ?? []), ...(server.tools ?? [])].join(' ').toLowerCase();
  return words.every((w) => haystack.includes(w));
}

export function RegistryPage() {
  const [servers, setServers] = useState<CatalogServer[] | undefined>();
  const [failure, setFailure] = useState<ApiFailure | undefined>();
  const [stale, setStale] = useState<string | undefined>();
  const [query, setQuery] = useState('');
  const [tier, setTier] = useState('');
  const [transport, setTransport] = useState('');
  const [kind, setKind] = useState('');
  const [selected, setSelected] = useState<CatalogServer | undefined>();

  useEffect(() => {
    get<{ servers: CatalogServer[]; remote_servers: CatalogServer[]; stale?: boolean; stale_reason?: string }>('/api/v1beta/registry/default/servers').then(
      (data) => {
        setServers([...data.servers, ...data.remote_servers].sort((a, b) => a.name.localeCompare(b.name)));
        if (data.stale) setStale(data.stale_reason ?? 'the registry is unavailable');
      },
      (err: ApiFailure) => setFailure(err),
    );
  }, []);

  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = useMemo(
    () =>
      (servers ?? []).filter(
        (s) => matches(s, words) && (!tier || s.tier === tier) && (!transport || (s.transport ?? 'stdio') === transport) && (!kind || kindOf(s) === kind),
      ),
    [servers, query, tier, transport, kind],
  );
  const tiers = [...new Set((servers ?? []).map((s) => s.tier).filter(Boolean))] as string[];

  if (failure?.code === 'registry_auth_required') {
    return (
      <section aria-labelledby="registry-title">
        <h1 id="registry-title">Registry</h1>
        <p class="notice warn" role="alert">
          This registry needs you to log in before it shows any server. <a href="#/login">Log in to the registry</a>
        </p>
      </section>
    );
  }
  return (
    <section aria-labelledby="registry-title" class="registry">
      <h1 id="registry-title">Registry</h1>
      {failure && <ErrorLine error={failure} />}
      {stale && <p class="notice warn">Showing cached data: {stale}</p>}
      <div class="filters" role="search">
        <label class="grow">
          <span class="sr-only">Search servers</span>
          <input type="search" placeholder="Search name, description, tags, tools…" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        <label>
          Tier{' '}
          <select value={tier} onChange={(e) => setTier(e.currentTarget.value)}>
            <option value="">all</option>
            {tiers.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Transport{' '}
          <select value={transport} onChange={(e) => setTransport(e.currentTarget.value)}>
            <option value="">all</option>
            <option value="stdio">stdio</option>
            <option value="streamable-http">streamable-http</option>
            <option value="sse">sse</option>
          </select>
        </label>
        <label>
          Kind{' '}
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            <option value="">all</option>
            <option value="package">npm / PyPI</option>
            <option value="image">image</option>
            <option value="remote">remote</option>
          </select>
        </label>
      </div>
      {servers === undefined && !failure ? <p aria-busy="true">Loading the catalog…</p> : <p class="muted" aria-live="polite">{shown.length} of {servers?.length ?? 0} servers</p>}
      <div class="split">
        <ul class="cards" aria-label="Servers">
          {shown.map((s) => (
            <li>
              <button class={`card${selected?.name === s.name ? ' selected' : ''}`} onClick={() => setSelected(s)} aria-pressed={selected?.name === s.name}>
                <strong>{shortName(s.name)}</strong>
                <span class="badges">
                  <span class="badge">{kindOf(s)}</span>
                  {s.tier && <span class="badge">{s.tier}</span>}
                </span>
                <span class="desc">{s.description}</span>
              </button>
            </li>
          ))}
        </ul>
        {selected && <ServerDetails server={selected} onClose={() => setSelected(undefined)} />}
      </div>
    </section>
  );
}

function ServerDetails({ server, onClose }: { server: CatalogServer; onClose: () => void }) {
  const [running, setRunning] = useState(false);
  return (
    <aside class="details" aria-label={`Details of ${shortName(server.name)}`}>
      <header>
        <h2>{server.title ?? shortName(server.name)}</h2>
        <button class="ghost" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </header>
      <p>{server.description}</p>
      <dl>
        <dt>Name</dt>
        <dd>
          <code>{server.name}</code>
        </dd>
        <dt>Transport</dt>
        <dd>{server.transport ?? 'stdio'}</dd>
        {server.image && (
          <>
            <dt>Image</dt>
            <dd>
              <code>{server.image}</code>
            </dd>
          </>
        )}
        {server.packages?.map((p) => (
          <>
            <dt>{p.registry_type}</dt>
            <dd>
              <code>
                {p.identifier}
                {p.version ? `@${p.version}` : ''}
              </code>
            </dd>
          </>
        ))}
        {server.url && (
          <>
            <dt>URL</dt>
            <dd>
              <code>{server.url}</code>
            </dd>
          </>
        )}
      </dl>
      <h3>Run it</h3>
      <pre>
        <code>thv run {shortName(server.name)}</code>
      </pre>
      {server.tools?.length ? (
        <>
          <h3>Tools</h3>
          <ul class="chips">
            {server.tools.map((t) => (
              <li>{t}</li>
            ))}
          </ul>
        </>
      ) : null}
      {server.env_vars?.length ? (
        <>
          <h3>Environment</h3>
          <table>
            <thead>
              <tr>
                <th>Variable</th>
                <th>Required</th>
                <th>Secret</th>
                <th>What it is</th>
              </tr>
            </thead>
            <tbody>
              {server.env_vars.map((v) => (
                <tr>
                  <td>
                    <code>{v.name}</code>
                  </td>
                  <td>{v.required ? 'yes' : 'no'}</td>
                  <td>{v.secret ? 'yes' : 'no'}</td>
                  <td>{v.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {server.permissions && (
        <>
          <h3>Permissions</h3>
          <pre class="perm">{JSON.stringify(server.permissions, null, 2)}</pre>
        </>
      )}
      {running ? <RunForm server={server} onCancel={() => setRunning(false)} /> : <button onClick={() => setRunning(true)}>Run…</button>}
    </aside>
  );
}

function RunForm({ server, onCancel }: { server: CatalogServer; onCancel: () => void }) {
  const [name, setName] = useState(shortName(server.name));
  const [values, setValues] = useState<Record<string, string>>({});
  const [runtime, setRuntime] = useState('');
  const [profile, setProfile] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const vars = server.env_vars ?? [];
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const env_vars: Record<string, string> = {};
    const secrets: Array<{ name: string; target: string }> = [];
    for (const v of vars) {
      const value = values[v.name];
      if (!value) continue;
      // A secret variable names a stored secret; its value never passes through this page.
      if (v.secret) secrets.push({ name: value, target: v.name });
      else env_vars[v.name] = value;
    }
    const body = {
      name,
      ...(server.url ? { url: server.url } : { image: server.name }),
      env_vars,
      secrets,
      ...(runtime ? { runtime } : {}),
      ...(profile ? { permission_profile: profile } : {}),
    };
    try {
      await post('/api/v1beta/workloads', body);
      navigate('/workloads');
    } catch (err) {
      setError(err as Error);
      setBusy(false);
    }
  };
  return (
    <form class="run-form" onSubmit={submit} aria-label={`Run ${shortName(server.name)}`}>
      <h3>Run {shortName(server.name)}</h3>
      <label>
        Workload name <input required value={name} onInput={(e) => setName(e.currentTarget.value)} pattern="[a-zA-Z0-9][a-zA-Z0-9_.\-]{0,62}" />
      </label>
      {vars.map((v) => (
        <label>
          {v.name} {v.secret ? '(name of a stored secret)' : ''}
          {v.required ? ' *' : ''}
          <input value={values[v.name] ?? ''} required={v.required} placeholder={v.default ?? ''} onInput={(e) => setValues({ ...values, [v.name]: e.currentTarget.value })} />
        </label>
      ))}
      {!server.url && (
        <>
          <label>
            Isolation{' '}
            <select value={runtime} onChange={(e) => setRuntime(e.currentTarget.value)}>
              <option value="">default (sandbox, or container for images)</option>
              <option value="sandbox">sandbox</option>
              <option value="container">container</option>
              <option value="none">none (unconfined)</option>
            </select>
          </label>
          <label>
            Permission profile{' '}
            <select value={profile} onChange={(e) => setProfile(e.currentTarget.value)}>
              <option value="">from the registry entry</option>
              <option value="none">none (no network, no files)</option>
              <option value="network">network</option>
            </select>
          </label>
        </>
      )}
      {error && <ErrorLine error={error} />}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Run'}
        </button>
        <button type="button" class="ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
