import { matchAllowHost, type PermissionProfile } from '../../isolation/profile.js';

/**
 * `network.inbound.allow_host` (docs/runtimes.md, "Profiles in a container"): ToolHive's ingress
 * proxy admits only requests whose Host is listed; thv's own proxy in front of an SSE/streamable-HTTP
 * container does the same. An empty list leaves the usual Host/Origin checks alone in force.
 * Returns why a request is refused, or undefined.
 */
export function inboundRefusal(profile: PermissionProfile, hostHeader: string | undefined): string | undefined {
  const allowed = profile.network?.inbound?.allow_host ?? [];
  if (allowed.length === 0) return undefined;
  const host = hostName(hostHeader ?? '');
  if (host && allowed.some((entry) => matchAllowHost(entry, host))) return undefined;
  return `host "${host.slice(0, 100)}" is not in the permission profile's network.inbound.allow_host`;
}

/** `name:port`, `[v6]:port` → the name alone, lower-cased. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}
