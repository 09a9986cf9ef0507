import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { ErrorLine } from '../shell.js';
import type { LoginState } from '../types.js';

const AUTH = '/api/v1beta/registry/auth';

const EXPLAIN: Record<LoginState['status'], string> = {
  none: 'This registry needs no login.',
  unauthenticated: 'Login required: the registry shows no servers until you log in.',
  pending: 'Waiting for you to finish logging in in the browser tab that opened.',
  authenticated: 'Logged in. Tokens are refreshed silently from now on.',
  failed: 'The last login failed.',
};

export function LoginPage() {
  const [state, setState] = useState<LoginState | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const load = () => get<LoginState>(`${AUTH}/status`).then(setState, setError);
  useEffect(() => void load(), []);
  useEffect(() => {
    if (state?.status !== 'pending') return;
    const timer = setInterval(() => void load(), 2_000);
    return () => clearInterval(timer);
  }, [state?.status]);

  const login = async () => {
    setError(undefined);
    // Opened before the request so the browser treats it as the user's own action, not a pop-up.
    const tab = window.open('about:blank', '_blank');
    try {
      const next = await post<LoginState>(`${AUTH}/login`, {});
      setState(next);
      if (next.authorization_url && tab) tab.location.href = next.authorization_url;
      else tab?.close();
    } catch (err) {
      tab?.close();
      setError(err as Error);
    }
  };
  const logout = async () => {
    setError(undefined);
    try {
      setState(await post<LoginState>(`${AUTH}/logout`, {}));
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <section aria-labelledby="login-title">
      <h1 id="login-title">Registry login</h1>
      {error && <ErrorLine error={error} />}
      {state && (
        <div class={`login-state login-${state.status}`}>
          <p>
            <strong data-login-status={state.status}>{state.status === 'unauthenticated' ? 'Login required' : state.status}</strong> — {EXPLAIN[state.status]}
          </p>
          {state.reason && <p class="muted">{state.reason}</p>}
          {state.auth_type && <p class="muted">Method: {state.auth_type}</p>}
          {state.status === 'pending' && state.authorization_url && (
            <p>
              No tab opened?{' '}
              <a href={state.authorization_url} target="_blank" rel="noopener noreferrer">
                Open the login page
              </a>
            </p>
          )}
          <div class="actions">
            {(state.status === 'unauthenticated' || state.status === 'failed') && <button onClick={() => void login()}>Log in</button>}
            {state.status === 'authenticated' && (
              <button class="ghost" onClick={() => void logout()}>
                Log out
              </button>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
