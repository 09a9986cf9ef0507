/**
 * Environment variables that hold credentials and must not stay in any supervisor's or proxy's
 * environment (docs/isolation.md, "Secrets"): a server, or anything that can read
 * /proc/<pid>/environ, would otherwise find them there. What a supervisor needs of them is handed
 * over on its stdin instead.
 */
const EXACT = new Set([
  'TOOLHIVE_SECRETS_PASSWORD',
  'THV_REGISTRY_TOKEN',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITLAB_TOKEN',
  'NPM_TOKEN',
  'NODE_AUTH_TOKEN',
  'SSH_AUTH_SOCK',
  'GPG_AGENT_INFO',
  'DOCKER_AUTH_CONFIG',
  'KUBECONFIG',
  'VAULT_TOKEN',
]);
const PREFIXES = ['TOOLHIVE_SECRET_', 'AWS_', 'GOOGLE_', 'GCLOUD_', 'CLOUDSDK_', 'AZURE_', 'ARM_CLIENT', 'OPENAI_', 'ANTHROPIC_'];
const SUFFIXES = ['_TOKEN', '_SECRET', '_PASSWORD', '_PASSWD', '_API_KEY', '_APIKEY', '_ACCESS_KEY', '_PRIVATE_KEY', '_CREDENTIALS', '_SECRET_KEY', '_SESSION_KEY'];

export function isSecretEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  return EXACT.has(upper) || PREFIXES.some((p) => upper.startsWith(p)) || SUFFIXES.some((s) => upper.endsWith(s));
}

/** A copy of `env` without the credential variables. */
export function scrubSecretEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!isSecretEnvName(name)) clean[name] = value;
  return clean;
}
