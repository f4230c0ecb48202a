/**
 * The demo's evidence documents: an SPDX SBOM, SLSA v1 provenance and a SLSA verification summary.
 * Their content is illustrative; what the pack checks (schema validity, listed components, builder and
 * source, the rebuilt digest) is real.
 */

export const SPDX_PREDICATE = 'https://spdx.dev/Document';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_VSA_V1 = 'https://slsa.dev/verification_summary/v1';

const SOURCE_URI = 'git+https://github.com/acme/shop@refs/tags/v1.4.0';
const SOURCE_COMMIT = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

export function spdxSbom(name: string): Record<string, unknown> {
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `https://demo.trustops.dev/spdx/${name}`,
    creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: trustops-demo'] },
    packages: [
      {
        name: 'openssl',
        SPDXID: 'SPDXRef-Package-openssl',
        versionInfo: '3.0.15',
        downloadLocation: 'NOASSERTION',
      },
      { name: 'zlib', SPDXID: 'SPDXRef-Package-zlib', versionInfo: '1.3.1', downloadLocation: 'NOASSERTION' },
    ],
  };
}

/** Provenance of the original build, or of an independent rebuild from the same source. */
export function slsaProvenance(builderId: string): Record<string, unknown> {
  return {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: {
        workflow: { ref: 'refs/tags/v1.4.0', repository: 'https://github.com/acme/shop' },
      },
      resolvedDependencies: [{ uri: SOURCE_URI, digest: { gitCommit: SOURCE_COMMIT } }],
    },
    runDetails: { builder: { id: builderId }, metadata: { invocationId: 'demo-build-1' } },
  };
}

export function verificationSummary(verifierId: string, resourceUri: string): Record<string, unknown> {
  return {
    verifier: { id: verifierId },
    timeVerified: '2026-01-01T00:00:00Z',
    resourceUri,
    policy: { uri: 'https://demo.trustops.dev/rebuild-policy' },
    verificationResult: 'PASSED',
    verifiedLevels: ['SLSA_BUILD_LEVEL_3'],
  };
}
