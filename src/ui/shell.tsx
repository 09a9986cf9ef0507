import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export const PAGES = [
  { path: '/registry', label: 'Registry' },
  { path: '/workloads', label: 'Workloads' },
  { path: '/logs', label: 'Logs' },
  { path: '/clients', label: 'Clients' },
  { path: '/secrets', label: 'Secrets' },
  { path: '/login', label: 'Registry login' },
] as const;

/** Hash routes (`#/workloads`, `#/logs/<name>`): the server serves one page and never sees them. */
export function useRoute(): string[] {
  const read = () => (location.hash.replace(/^#/, '') || '/registry').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function navigate(path: string): void {
  location.hash = `#${path}`;
}

export function Shell({ current, children }: { current: string; children: ComponentChildren }) {
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">thv</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li>
                <a href={`#${p.path}`} aria-current={current === p.path ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

export function ErrorLine({ error }: { error: Error }) {
  return (
    <p class="notice error" role="alert">
      {error.message}
    </p>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status.replace('_', ' ')}</span>;
}
