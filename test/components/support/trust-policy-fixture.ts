import { generateKeyPairSync } from 'node:crypto';
import * as os from 'node:os';
import { parseTrustPolicy } from '../../../policy-pack/supply-chain/trust-policy';
import type { ResolvedTrustPolicy } from '../../../policy-pack/supply-chain/trust-policy';

/** A real public key (node crypto), so the loader's key parsing runs on real material. */
export function publicKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
}

/**
 * ONE trust policy document with every kind of requirement: keyless and key signers, signature, SBOM
 * (one format), provenance with a builder constraint, a 2-of-3 rebuild quorum, and a second rule.
 */
export function trustPolicyDocument(): Record<string, unknown> {
  return {
    apiVersion: 'trustops.dev/v1alpha1',
    kind: 'TrustPolicy',
    signers: {
      'acme-ci': {
        keyless: {
          issuer: 'https://token.actions.githubusercontent.com',
          subjectRegExp: 'https://github\\.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.*',
        },
      },
      'rebuilder-a': {
        keyless: { issuer: 'https://accounts.google.com', subject: 'rebuilder-a@acme.example' },
      },
      'rebuilder-b': {
        keyless: { issuer: 'https://accounts.google.com', subject: 'rebuilder-b@acme.example' },
      },
      'rebuilder-k': { key: { publicKey: publicKeyPem() } },
      'legacy-key': { key: { publicKey: publicKeyPem(), requireTransparencyLog: false } },
    },
    images: [
      {
        match: ['ghcr.io/acme/**'],
        signature: { signers: ['acme-ci'] },
        sbom: { signers: ['acme-ci'], formats: ['cyclonedx'] },
        provenance: {
          signers: ['acme-ci'],
          builderIdRegExp: 'https://github\\.com/acme/.+',
          sourceRepository: 'https://github.com/acme/shop',
        },
        reproducible: { rebuilders: ['rebuilder-a', 'rebuilder-b', 'rebuilder-k'], threshold: 2 },
      },
      { match: ['registry.example.com/legacy/*'], signature: { signers: ['legacy-key'] } },
    ],
    exemptions: [
      {
        image: `docker.io/library/busybox@sha256:${'b'.repeat(64)}`,
        reason: 'debug image during incident',
        ticket: 'OPS-1',
        expires: '2099-12-31',
      },
      {
        image: `docker.io/library/alpine@sha256:${'c'.repeat(64)}`,
        reason: 'old',
        ticket: 'OPS-0',
        expires: '2020-01-01',
      },
    ],
  };
}

export function loadFixturePolicy(doc: Record<string, unknown> = trustPolicyDocument()): ResolvedTrustPolicy {
  return parseTrustPolicy(doc, { baseDir: os.tmpdir(), source: 'fixture' });
}
