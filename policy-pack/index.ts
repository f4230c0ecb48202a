/**
 * The trustops CrossGuard pack. Wiring only: importing this module starts the analyzer gRPC server.
 * Policies live one per file in ./policies; the verifier is injected so tests can exercise the mapping.
 */
import { PolicyPack } from '@pulumi/policy';
import { createAdmissionControlEnforcedPolicy } from './policies/admission-control-enforced';
import { createAllowedRegistriesPolicy } from './policies/allowed-registries';
import { createConfidentialWorkloadsScheduledPolicy } from './policies/confidential-workloads-scheduled';
import { createGkeClusterHardenedPolicy } from './policies/gke-cluster-hardened';
import { createGkeConfidentialNodesPolicy } from './policies/gke-confidential-nodes';
import { createImagesPinnedByDigestPolicy } from './policies/images-pinned-by-digest';
import { createTrustedImagesPolicy } from './policies/trusted-images';
import { registryVerifierFactory } from './policies/support/registry-verifier';
import { VerificationSessions } from './policies/support/verification';

const sessions = new VerificationSessions(registryVerifierFactory);

new PolicyPack('trustops', {
  displayName: 'trustops supply chain and confidential infrastructure',
  description:
    'Blocks container images without a valid Sigstore signature, signed SBOM, provenance and rebuild quorum, and GKE infrastructure that is not confidential and hardened.',
  enforcementLevel: 'mandatory',
  policies: [
    createTrustedImagesPolicy({ sessions }),
    createImagesPinnedByDigestPolicy({ sessions }),
    createAllowedRegistriesPolicy(),
    createGkeConfidentialNodesPolicy(),
    createGkeClusterHardenedPolicy(),
    createAdmissionControlEnforcedPolicy(),
    createConfidentialWorkloadsScheduledPolicy(),
  ],
});
