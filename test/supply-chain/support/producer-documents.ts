import * as CDX from '@cyclonedx/cyclonedx-library';

/**
 * SBOMs and provenance shaped as real producers publish them. CycloneDX documents are serialised by the
 * CycloneDX project's own library (@cyclonedx/cyclonedx-library) for each spec version; SPDX documents
 * and provenance predicates follow what the named tool writes (field for field, values made up).
 */

const SPECS = {
  '1.2': CDX.Spec.Spec1dot2,
  '1.3': CDX.Spec.Spec1dot3,
  '1.4': CDX.Spec.Spec1dot4,
  '1.5': CDX.Spec.Spec1dot5,
  '1.6': CDX.Spec.Spec1dot6,
  '1.7': CDX.Spec.Spec1dot7,
} as const;
export type CdxVersion = keyof typeof SPECS;
export const CDX_VERSIONS = Object.keys(SPECS) as CdxVersion[];

/** A CycloneDX JSON BOM of `version`, serialised by the CycloneDX library, with `components` libraries. */
export function libraryCycloneDx(version: CdxVersion, components = 2): Record<string, unknown> {
  const bom = new CDX.Models.Bom();
  // fractional seconds, as the library (and trivy) write them
  bom.metadata.timestamp = new Date('2026-01-02T03:04:05.678Z');
  bom.metadata.tools.components.add(
    new CDX.Models.Component(CDX.Enums.ComponentType.Application, 'trivy', { version: '0.71.0' }),
  );
  for (let i = 0; i < components; i++) {
    bom.components.add(
      new CDX.Models.Component(CDX.Enums.ComponentType.Library, `pkg-${i}`, {
        version: `1.${i}.0`,
        bomRef: `pkg-${i}`,
      }),
    );
  }
  const serializer = new CDX.Serialize.JsonSerializer(
    new CDX.Serialize.JSON.Normalize.Factory(SPECS[version]),
  );
  return JSON.parse(serializer.serialize(bom, { sortLists: true })) as Record<string, unknown>;
}

/**
 * SPDX 2.2/2.3 JSON as syft before 0.62 and trivy in 2022 wrote it: `created` with fractional seconds
 * (syft: nanoseconds; trivy: microseconds and an offset).
 */
export function toolSpdx(
  spdxVersion: 'SPDX-2.2' | 'SPDX-2.3',
  created: string,
  packages = 2,
): Record<string, unknown> {
  return {
    spdxVersion,
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'registry.example.com/acme/app',
    documentNamespace: `https://anchore.com/syft/image/app-${created}`,
    creationInfo: {
      created,
      creators: ['Organization: Anchore, Inc', 'Tool: syft-0.60.3'],
      licenseListVersion: '3.18',
    },
    packages: Array.from({ length: packages }, (_, i) => ({
      name: `pkg-${i}`,
      SPDXID: `SPDXRef-Package-deb-pkg-${i}`,
      versionInfo: `1.${i}.0`,
      downloadLocation: 'NOASSERTION',
      licenseConcluded: 'NONE',
      licenseDeclared: 'NONE',
      copyrightText: 'NOASSERTION',
    })),
  };
}

export const SYFT_CREATED = '2022-11-03T14:12:55.123456789Z';
export const TRIVY_CREATED = '2022-05-04T12:43:25.950939+00:00';

export const GCB_BUILDER = 'https://cloudbuild.googleapis.com/GoogleHostedWorker@v0.3';

/** SLSA provenance v0.1 as Google Cloud Build writes it (builder, recipe, metadata, materials). */
export function cloudBuildProvenanceV01(
  opts: { repo?: string; commit?: string; builderId?: string; recipe?: boolean } = {},
): Record<string, unknown> {
  return {
    builder: { id: opts.builderId ?? GCB_BUILDER },
    ...(opts.recipe === false
      ? {}
      : {
          recipe: {
            type: 'https://cloudbuild.googleapis.com/CloudBuildYaml@v0.1',
            definedInMaterial: '0',
            entryPoint: 'cloudbuild.yaml',
            arguments: { '@type': 'type.googleapis.com/google.devtools.cloudbuild.v1.Build' },
          },
        }),
    metadata: {
      buildInvocationId: 'b6a8c1f0-0000-4000-8000-000000000001',
      buildStartedOn: '2026-01-02T03:04:05.123456Z',
      buildFinishedOn: '2026-01-02T03:06:07.654321Z',
      completeness: { arguments: true, environment: false, materials: false },
      reproducible: false,
    },
    materials: [
      {
        uri: opts.repo ?? 'https://github.com/acme/app',
        digest: { sha1: opts.commit ?? 'a'.repeat(40) },
      },
    ],
  };
}

/** SLSA provenance v0.2 as BuildKit writes it for a local build: `builder.id` empty. */
export function buildkitProvenanceV02(): Record<string, unknown> {
  return {
    builder: { id: '' },
    buildType: 'https://mobyproject.org/buildkit@v1',
    materials: [
      {
        uri: 'pkg:docker/debian@bookworm?platform=linux%2Famd64',
        digest: { sha256: 'b'.repeat(64) },
      },
    ],
    invocation: { configSource: { entryPoint: 'Dockerfile' }, parameters: { frontend: 'dockerfile.v0' } },
    metadata: { buildInvocationID: 'x', reproducible: false },
  };
}

/** A SLSA verification summary v0.2 (policyLevel rather than v1's verifiedLevels). */
export function vsaV02(result: 'PASSED' | 'FAILED' = 'PASSED'): Record<string, unknown> {
  return {
    verifier: { id: 'https://rebuilder.example/verifier' },
    timeVerified: '2026-01-02T03:04:05.123Z',
    resourceUri: 'oci://registry.example.com/acme/app',
    policy: { uri: 'https://rebuilder.example/policy' },
    inputAttestations: [],
    verificationResult: result,
    policyLevel: 'SLSA_LEVEL_3',
  };
}
