import { render } from 'preact';
import { Shell, useRoute } from './shell.js';
import { RegistryPage } from './pages/registry.js';
import { WorkloadsPage } from './pages/workloads.js';
import { LogsPage } from './pages/logs.js';
import { ClientsPage } from './pages/clients.js';
import { SecretsPage } from './pages/secrets.js';
import { LoginPage } from './pages/login.js';
import './style.css';

function App() {
  const [page, ...rest] = useRoute();
  const current = `/${page ?? 'registry'}`;
  const body = (() => {
    switch (current) {
      case '/workloads':
        return <WorkloadsPage />;
      case '/logs':
        return <LogsPage name={rest[0]} />;
      case '/clients':
        return <ClientsPage />;
      case '/secrets':
        return <SecretsPage />;
      case '/login':
        return <LoginPage />;
      default:
        return <RegistryPage />;
    }
  })();
  return <Shell current={current}>{body}</Shell>;
}

render(<App />, document.getElementById('app')!);
