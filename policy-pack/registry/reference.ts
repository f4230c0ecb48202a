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

function validHost(host: string): boolean {
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return false;
    name = host.slice(0, end + 1);
    const rest = host.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return false;
      port = rest.slice(1);
    }
    if (!IPV6_HOST.test(name)) return false;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (name === '' || !name.split('.').every((l) => HOST_LABEL.test(l))) return false;
  }
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port)) return false;
  if (port !== undefined && Number(port) > 65535) return false;
  return true;
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
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!validHost(registry)) throw invalid(ref, `registry host "${registry}" is not valid`);
    // DNS names are case-insensitive: GHCR.IO is ghcr.io, and Docker.io is Docker Hub (library/ added).
    registry = registry.toLowerCase();
  }
  if (DOCKER_HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
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
