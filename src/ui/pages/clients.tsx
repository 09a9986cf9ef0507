import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { ErrorLine } from '../shell.js';
import type { ClientStatus } from '../types.js';

export function ClientsPage() {
  const [clients, setClients] = useState<ClientStatus[] | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const load = () => get<{ clients: ClientStatus[] }>('/api/v1beta/discovery/clients').then((d) => setClients(d.clients), setError);
  useEffect(() => void load(), []);
  const change = async (client: string, register: boolean) => {
    setError(undefined);
    try {
      await post(`/api/v1beta/clients/${register ? 'register' : 'unregister'}`, { names: [client] });
    } catch (err) {
      setError(err as Error);
    }
    await load();
  };
  return (
    <section aria-labelledby="clients-title">
      <h1 id="clients-title">AI clients</h1>
      <p class="muted">A registered client gets every running workload of its groups in its own config file, kept current as workloads start and stop.</p>
      {error && <ErrorLine error={error} />}
      {clients === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Client</th>
              <th>Installed</th>
              <th>Registered</th>
              <th>Action</th>
            </tr>
          </thead>
          <tbody>
            {clients.map((c) => (
              <tr data-client={c.client_type}>
                <td>{c.client_type}</td>
                <td>{c.installed ? 'yes' : 'no'}</td>
                <td>{c.registered ? 'yes' : 'no'}</td>
                <td>
                  {c.registered ? (
                    <button class="ghost" onClick={() => void change(c.client_type, false)}>
                      Unregister
                    </button>
                  ) : (
                    <button onClick={() => void change(c.client_type, true)} disabled={!c.installed} title={c.installed ? '' : 'not installed on this machine'}>
                      Register
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
