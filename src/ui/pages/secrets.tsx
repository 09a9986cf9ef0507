import { useEffect, useState } from 'preact/hooks';
import { del, enc, get, post } from '../api.js';
import { ErrorLine } from '../shell.js';

interface ProviderInfo {
  provider_type: string;
  capabilities: { can_write: boolean; can_delete: boolean; can_list: boolean };
}

/** Names only: no route returns a value, and a value typed here is sent once and forgotten. */
export function SecretsPage() {
  const [info, setInfo] = useState<ProviderInfo | undefined>();
  const [keys, setKeys] = useState<string[] | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const load = async () => {
    try {
      setInfo(await get<ProviderInfo>('/api/v1beta/secrets/default'));
      setKeys((await get<{ keys: Array<{ key: string }> }>('/api/v1beta/secrets/default/keys')).keys.map((k) => k.key));
    } catch (err) {
      setError(err as Error);
    }
  };
  useEffect(() => void load(), []);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await post('/api/v1beta/secrets/default/keys', { key, value });
      setKey('');
      setValue('');
    } catch (err) {
      setError(err as Error);
    }
    await load();
  };
  const remove = async (name: string) => {
    if (!confirm(`Delete the secret ${name}?`)) return;
    setError(undefined);
    try {
      await del(`/api/v1beta/secrets/default/keys/${enc(name)}`);
    } catch (err) {
      setError(err as Error);
    }
    await load();
  };
  return (
    <section aria-labelledby="secrets-title">
      <h1 id="secrets-title">Secrets</h1>
      {info && <p class="muted">Provider: {info.provider_type}. Values are never shown.</p>}
      {error && <ErrorLine error={error} />}
      {keys && (
        <ul class="secret-list" aria-label="Secret names">
          {keys.length === 0 && <li class="muted">No secrets yet.</li>}
          {keys.map((k) => (
            <li>
              <code>{k}</code>
              {info?.capabilities.can_delete && (
                <button class="danger small" onClick={() => void remove(k)} aria-label={`Delete ${k}`}>
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {info?.capabilities.can_write && (
        <form class="run-form" onSubmit={save} aria-labelledby="secret-form-title">
          <h2 id="secret-form-title">Set a secret</h2>
          <label>
            Name <input required value={key} onInput={(e) => setKey(e.currentTarget.value)} autocomplete="off" />
          </label>
          <label>
            Value <input required type="password" value={value} onInput={(e) => setValue(e.currentTarget.value)} autocomplete="new-password" />
          </label>
          <div class="actions">
            <button type="submit">Save</button>
          </div>
        </form>
      )}
    </section>
  );
}
