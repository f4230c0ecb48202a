import * as path from 'node:path';
import { buildPackConfig, type PackConfig } from '../../policy-pack/config';
import type { ResolvedTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type { TrustPolicy } from '../../policy-pack/supply-chain/types';

/**
 * The pack config for one trust policy file, ready to publish: key files inlined as PEM (`publicKey`),
 * so the config means the same on any machine that runs `pulumi`, and the trust policy in both image
 * policies (trusted-images, images-pinned-by-digest: @pulumi/policy gives each policy only its own
 * config). What cannot be inlined (a trusted_root.json file, a TUF root, an oci-layout mirror) is made
 * absolute and named in `notes`.
 */
export interface PackConfigOptions {
  mirrors?: Record<string, string>;
  insecureRegistries?: string[];
  /** Prefixes for allowed-registries; default: derived from the rules' match globs. */
  allowedPrefixes?: string[];
  pinningLevel?: 'mandatory' | 'remediate' | 'advisory';
}

export interface GeneratedPackConfig {
  config: PackConfig;
  notes: string[];
}

export function packConfigFor(
  policy: ResolvedTrustPolicy,
  options: PackConfigOptions = {},
): GeneratedPackConfig {
  const notes: string[] = [];
  const document = inlinedDocument(policy, notes);
  const mirrors: Record<string, string> = {};
  for (const [host, store] of Object.entries(options.mirrors ?? {})) {
    if (store.startsWith('oci-layout:')) {
      const dir = path.resolve(store.slice('oci-layout:'.length));
      mirrors[host] = `oci-layout:${dir}`;
      notes.push(
        `registry mirror ${host} is the local folder ${dir}: every machine that runs pulumi with this config needs it there`,
      );
    } else {
      mirrors[host] = store;
    }
  }
  const registry =
    Object.keys(mirrors).length > 0 || (options.insecureRegistries ?? []).length > 0
      ? {
          ...(Object.keys(mirrors).length > 0 ? { mirrors } : {}),
          ...((options.insecureRegistries ?? []).length > 0
            ? { insecureRegistries: options.insecureRegistries }
            : {}),
        }
      : undefined;
  let allowedPrefixes = options.allowedPrefixes ?? [];
  if (allowedPrefixes.length === 0) {
    allowedPrefixes = derivedPrefixes(policy, notes);
    notes.push(
      `allowed-registries.allowedPrefixes derived from the rules' match globs: ${allowedPrefixes.join(', ') || 'none'}`,
    );
  }
  const config = buildPackConfig({
    trustPolicy: document,
    allowedPrefixes,
    ...(registry ? { registry } : {}),
    ...(options.pinningLevel ? { pinningLevel: options.pinningLevel } : {}),
  });
  return { config, notes };
}

/** The trust policy as a document, with every key file replaced by its PEM. */
function inlinedDocument(policy: ResolvedTrustPolicy, notes: string[]): TrustPolicy {
  const signers: TrustPolicy['signers'] = {};
  for (const [name, spec] of Object.entries(policy.signers)) {
    if (spec.key?.publicKeyFile !== undefined) {
      const pem = policy.resolvedSigners[name]?.key?.publicKeyPem;
      if (pem === undefined) throw new Error(`signer ${name}: key file was not resolved`);
      const { publicKeyFile: _file, ...key } = spec.key;
      signers[name] = { ...spec, key: { ...key, publicKey: pem } };
    } else {
      signers[name] = spec;
    }
  }
  const doc: TrustPolicy = {
    apiVersion: policy.apiVersion,
    kind: policy.kind,
    signers,
    images: policy.images,
    ...(policy.exemptions ? { exemptions: policy.exemptions } : {}),
    ...(policy.unmatchedImages ? { unmatchedImages: policy.unmatchedImages } : {}),
  };
  const root = policy.trustedRoot;
  if (root?.file !== undefined) {
    const file = path.resolve(policy.baseDir, root.file);
    doc.trustedRoot = { file };
    notes.push(
      `trustedRoot.file is the file ${file}: every machine that runs pulumi with this config reads it there (or use trustedRoot.tuf)`,
    );
  } else if (root?.tuf !== undefined) {
    doc.trustedRoot = {
      tuf: {
        ...root.tuf,
        ...(root.tuf.root !== undefined ? { root: path.resolve(policy.baseDir, root.tuf.root) } : {}),
        ...(root.tuf.cacheDir !== undefined
          ? { cacheDir: path.resolve(policy.baseDir, root.tuf.cacheDir) }
          : {}),
      },
    };
    if (root.tuf.root !== undefined)
      notes.push(`trustedRoot.tuf.root is a file path: every machine that runs pulumi reads it there`);
  } else if (root !== undefined) {
    doc.trustedRoot = root;
  }
  return doc;
}

/**
 * `registry.example.com/acme/**` -> `registry.example.com/acme`: the literal part of each glob up to its
 * first wildcard, cut back to a whole path segment (allowed-registries matches on path boundaries).
 */
export function derivedPrefixes(policy: TrustPolicy, notes: string[] = []): string[] {
  const prefixes: string[] = [];
  for (const rule of policy.images) {
    for (const glob of rule.match) {
      const wild = glob.search(/[*?[]/);
      const literal = wild < 0 ? glob : glob.slice(0, glob.lastIndexOf('/', wild));
      if (literal === '') {
        notes.push(`no registry prefix can be derived from match glob "${glob}"; give --allowed-prefix`);
        continue;
      }
      if (!prefixes.includes(literal)) prefixes.push(literal);
    }
  }
  return prefixes;
}
