import { isSha256Digest } from './digest';
import { RegistryError } from './errors';
import type { ImageReference } from './types';

/**
 * Image references parsed and normalised the way Docker does (distribution/reference): `nginx` is
 * `docker.io/library/nginx:latest`, a first component with a dot, a colon or `localhost` is a registry
 * host, a tag and a digest may both be present (the digest wins when fetching).
 */

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST_LABEL = /^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;
const IPV6_HOST = /^\[[0-9A-Fa-f:.]+\]$/;
const MAX_NAME_LENGTH = 255;

function invalid(ref: string, why: string): RegistryError {
  return new RegistryError(
    'INVALID_REFERENCE',
    `Image reference "${ref.slice(0, 300)}" is not valid: ${why}. ` +
      'Write it as [registry[:port]/]repository[:tag][@sha256:<64 hex>], e.g. ghcr.io/org/app@sha256:….',
    { reference: ref.slice(0, 300) },
  );
}

function looksLikeHost(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.startsWith('[')
  );
}

/** `host` split into name and port, or undefined when it is not a valid `name[:port]` / `[v6][:port]`. */
function splitHost(host: string): { name: string; port: string | undefined } | undefined {
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return undefined;
    name = host.slice(0, end + 1);
    const rest = host.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      port = rest.slice(1);
    }
    if (!IPV6_HOST.test(name)) return undefined;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (name === '' || !name.split('.').every((l) => HOST_LABEL.test(l))) return undefined;
  }
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port)) return undefined;
  if (port !== undefined && Number(port) > 65535) return undefined;
  return { name, port };
}

/**
 * The registry's identity: the `host[:port]` the client actually contacts, spelled one way, so that
 * trust-policy globs, exemptions and allowed-registries prefixes cannot be sidestepped by another
 * spelling of the same endpoint.
 *
 * - The host goes through the WHATWG URL host parser (what Node's http client resolves): case folded,
 *   IPv4 in dotted-decimal (`127.1`, `0x7f.0.0.1` -> `127.0.0.1`), IPv6 compressed (`[2001:DB8:0::1]` ->
 *   `[2001:db8::1]`). A host that parser refuses (`foo.1`: a name ending in a number that is no IPv4) is
 *   rejected rather than guessed at.
 * - The port is dropped when it is the default port of the scheme the client uses for that host: 443 for
 *   registries reached over HTTPS (`ghcr.io:443` is `ghcr.io`), 80 for loopback hosts, which the client
 *   reaches over plain HTTP (`localhost:443` stays `localhost:443`: under HTTP it is another port, hence
 *   another endpoint, and dropping it would send the fetch elsewhere).
 * - Non-loopback hosts listed with `--insecure-registry host:443` are reached over plain HTTP on 443; the
 *   reference parser has no access to that setting, so such a reference now names `host` and is fetched
 *   from https://host (a TLS error, so a violation: fail closed, never a different image judged as trusted).
 * - Trailing-dot names (`ghcr.io.`) are rejected by the label grammar before this runs.
 */
function canonicalHost(host: string): string | undefined {
  const split = splitHost(host);
  if (!split) return undefined;
  let hostname: string;
  try {
    const url = new URL(`https://${split.name}/`);
    // The name must be all host: no userinfo, port or path sneaked in through the URL parser.
    if (url.username !== '' || url.password !== '' || url.port !== '' || url.pathname !== '/')
      return undefined;
    hostname = url.hostname;
  } catch {
    return undefined;
  }
  if (hostname === '') return undefined;
  if (split.port === undefined) return hostname;
  const port = Number(split.port);
  const defaultPort = isLoopbackHost(hostname) ? 80 : 443;
  return port === defaultPort ? hostname : `${hostname}:${port}`;
}

/**
 * The registry identity `parseReference` gives references on `host` (`GHCR.IO:443` -> `ghcr.io`,
 * `index.docker.io` -> `docker.io`), or undefined when `host` is not a valid registry host. For settings
 * keyed by registry host (mirrors, insecure registries, credentials) to match what references normalise to.
 */
export function registryIdentity(host: string): string | undefined {
  const canonical = canonicalHost(host);
  if (canonical === undefined) return undefined;
  return DOCKER_HUB_ALIASES.has(canonical) ? DOCKER_HUB : canonical;
}

export function parseReference(ref: string): ImageReference {
  if (typeof ref !== 'string' || ref.length === 0) throw invalid(String(ref), 'it is empty');
  if (ref !== ref.trim() || /\s/.test(ref)) throw invalid(ref, 'it contains whitespace');
  if (ref.includes('://')) throw invalid(ref, 'it has a URL scheme; give the reference without http(s)://');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isSha256Digest(digest))
      throw invalid(ref, `"${digest.slice(0, 80)}" is not a sha256:<64 lowercase hex> digest`);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid(ref, `tag "${tag.slice(0, 140)}" is not valid`);
  }

  const slash = rest.indexOf('/');
  let registry = DOCKER_HUB;
  let repository = rest;
  if (slash >= 0 && looksLikeHost(rest.slice(0, slash))) {
    const host = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    // DNS names are case-insensitive: GHCR.IO is ghcr.io, and Docker.io is Docker Hub (library/ added);
    // ghcr.io:443 is ghcr.io (see canonicalHost).
    const identity = registryIdentity(host);
    if (identity === undefined) throw invalid(ref, `registry host "${host.slice(0, 260)}" is not valid`);
    registry = identity;
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;

  if (repository === '') throw invalid(ref, 'the repository name is empty');
  for (const component of repository.split('/')) {
    if (!COMPONENT.test(component)) {
      throw invalid(
        ref,
        `repository component "${component.slice(0, 80)}" must be lowercase letters, digits and single separators (. _ __ -)`,
      );
    }
  }
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH)
    throw invalid(ref, 'the name is longer than 255 characters');

  if (tag === undefined && digest === undefined) tag = 'latest';
  const parsed: ImageReference = { registry, repository };
  if (tag !== undefined) parsed.tag = tag;
  if (digest !== undefined) parsed.digest = digest;
  return parsed;
}

/** `registry/repository[:tag][@digest]`: the canonical, fully qualified form. */
export function formatReference(ref: ImageReference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** `registry/repository`: the reference without tag or digest. */
export function repositoryName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The same image pinned to `digest` (the tag is kept for reports only). */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  return { ...ref, digest };
}

/** True for hosts that never leave the machine: 127.0.0.0/8, localhost and [::1], with any port. */
export function isLoopbackHost(host: string): boolean {
  let name = host.toLowerCase();
  if (name.startsWith('[')) name = name.slice(0, name.indexOf(']') + 1);
  else if (name.includes(':')) name = name.slice(0, name.lastIndexOf(':'));
  if (name === 'localhost' || name === '[::1]') return true;
  const octets = name.split('.');
  return (
    octets.length === 4 &&
    octets[0] === '127' &&
    octets.every((o) => /^[0-9]{1,3}$/.test(o) && Number(o) <= 255)
  );
}
