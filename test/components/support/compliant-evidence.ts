import { cyclonedxDocument, slsaV1, vsa } from '../../supply-chain/support/world';
import type { SimEvidence } from './kyverno-cel-sim';

/** The source and builder the fixture trust policy's acme rule requires of provenance. */
export const FIXTURE_SOURCE = 'git+https://github.com/acme/shop@refs/tags/v1.2.3';
export const FIXTURE_BUILDER = 'https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.2.3';

/** What a compliant release of the fixture's acme rule publishes: signature, SBOM, provenance, 2 rebuilds. */
export function compliantEvidence(): SimEvidence {
  return {
    signatures: ['acme-ci'],
    statements: [
      {
        signer: 'acme-ci',
        predicateType: 'https://cyclonedx.org/bom',
        predicate: cyclonedxDocument('1.5', 2),
      },
      {
        signer: 'acme-ci',
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: slsaV1({ builderId: FIXTURE_BUILDER, repo: FIXTURE_SOURCE }),
      },
      ...['rebuilder-a', 'rebuilder-k'].map((signer) => ({
        signer,
        predicateType: 'https://slsa.dev/verification_summary/v1',
        predicate: vsa('PASSED'),
      })),
    ],
  };
}
