/**
 * The environment a stdio server starts with: a minimal base taken from the supervisor's own
 * environment (what programs need to find binaries, write temp files and pick a locale, plus the
 * standard proxy and CA settings so networked servers work behind a corporate proxy), then the
 * workload's `-e` values, then its resolved secrets. Nothing else of the user's environment leaks in.
 */
export const BASE_ENV_NAMES = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // Windows needs these to start any process.
  'SystemRoot',
  'COMSPEC',
  'PATHEXT',
  'APPDATA',
  'LOCALAPPDATA',
  'USERPROFILE',
] as const;

export function childEnvironment(
  parent: NodeJS.ProcessEnv,
  workloadEnv: Record<string, string>,
  secretEnv: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BASE_ENV_NAMES) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...workloadEnv, ...secretEnv };
}
