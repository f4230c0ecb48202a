import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import { parseReference } from '../registry/reference';
import { rawProperties, scanWorkload, setAtPath, type ImageSite } from '../workloads';
import { readConfig } from './support/config';
import { notImagePropertiesSchema, type NotImageConfig } from './support/not-image-config';
import { report, resourceLabel } from './support/report';
import type { VerificationSessions } from './support/verification';
import {
  settingsFrom,
  verificationConfigProperties,
  type VerificationConfig,
} from './support/verification-config';
import { knownImageOrReport, reportScanProblems, siteSubject } from './support/workload-images';

export const IMAGES_PINNED_BY_DIGEST = 'images-pinned-by-digest';

/**
 * The verification keys are read by the remediation only: @pulumi/policy hands each policy its own
 * config, and Remediate runs before any Analyze, so the remediation cannot borrow trusted-images' trust
 * policy. Give the same document here (PackConfig builders in config.ts do) and both policies share one
 * verification session: each image is resolved and verified once per run.
 */
export type ImagesPinnedByDigestConfig = VerificationConfig & NotImageConfig;

export const imagesPinnedByDigestConfigSchema: PolicyConfigSchema = {
  properties: { ...verificationConfigProperties(), notImageProperties: notImagePropertiesSchema() },
};

const REQUIREMENT = 'digest pin';

export interface ImagesPinnedByDigestDeps {
  sessions: VerificationSessions;
}

type Pin = { pinned: true } | { pinned: false; found: string } | { invalid: string };

function pinOf(image: string): Pin {
  try {
    const ref = parseReference(image);
    if (ref.digest) return { pinned: true };
    return {
      pinned: false,
      found: image.includes(':', image.lastIndexOf('/') + 1)
        ? `tag "${ref.tag}"`
        : 'no tag or digest (means :latest)',
    };
  } catch (e) {
    return { invalid: e instanceof Error ? e.message : String(e) };
  }
}

/** The reference with its tag replaced by `digest`, keeping how the user wrote the repository. */
export function pinReference(image: string, digest: string): string {
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return `${colon >= 0 ? image.slice(0, colon) : image}@${digest}`;
}

/**
 * Tags move; digests do not. Every image must be pinned by digest. With the `remediate` level, a tag is
 * rewritten to the digest this run resolved and verified against the trust policy (never to a digest
 * that failed verification).
 */
export function createImagesPinnedByDigestPolicy(deps: ImagesPinnedByDigestDeps): ResourceValidationPolicy {
  return {
    name: IMAGES_PINNED_BY_DIGEST,
    description: 'Every container image is pinned by digest (remediate: pin tags to the verified digest).',
    enforcementLevel: 'mandatory',
    configSchema: imagesPinnedByDigestConfigSchema,
    validateResource: (args, reportViolation) => {
      const cfg = readConfig<ImagesPinnedByDigestConfig>(imagesPinnedByDigestConfigSchema, args.getConfig());
      const notImageProperties = cfg.ok ? cfg.config.notImageProperties : undefined;
      const scan = scanWorkload(args.type, rawProperties(args.props), { notImageProperties });
      if (!scan) return;
      const resource = resourceLabel(args.name, args.type);
      reportScanProblems(reportViolation, resource, REQUIREMENT, scan.problems);
      for (const site of scan.images) {
        const image = knownImageOrReport(reportViolation, resource, REQUIREMENT, site);
        if (image === undefined) continue;
        const pin = pinOf(image);
        if ('invalid' in pin) {
          report(reportViolation, {
            code: 'IMAGE_INVALID',
            resource,
            subject: siteSubject(site, image),
            requirement: REQUIREMENT,
            expected: 'a valid image reference',
            found: pin.invalid,
          });
        } else if (!pin.pinned) {
          report(reportViolation, {
            code: 'NOT_PINNED',
            resource,
            subject: siteSubject(site, image),
            requirement: REQUIREMENT,
            expected: 'a reference pinned by digest (repository@sha256:<64 hex>)',
            found: pin.found,
            hint: `Pin the digest, or set ${IMAGES_PINNED_BY_DIGEST} to remediate (with trustPolicy in its config) to pin the verified digest.`,
          });
        }
      }
    },
    remediateResource: async (args) => {
      const props = rawProperties(args.props);
      const cfg = readConfig<ImagesPinnedByDigestConfig>(imagesPinnedByDigestConfigSchema, args.getConfig());
      // Without a trust policy nothing can be verified, so nothing is pinned: Analyze then reports the tag.
      if (!cfg.ok || !cfg.config.trustPolicy) return undefined;
      const scan = scanWorkload(args.type, props, { notImageProperties: cfg.config.notImageProperties });
      if (!scan) return undefined;
      const session = deps.sessions.sessionFor(
        settingsFrom({ ...cfg.config, trustPolicy: cfg.config.trustPolicy }),
      );
      if (!session.ok) return undefined;
      const unpinned: { path: ImageSite['path']; image: string }[] = [];
      for (const s of scan.images) {
        if (s.image.state !== 'known') continue;
        const pin = pinOf(s.image.reference);
        if ('pinned' in pin && !pin.pinned) unpinned.push({ path: s.path, image: s.image.reference });
      }
      if (unpinned.length === 0) return undefined;
      const verdicts = await Promise.all(unpinned.map((s) => session.session.verify(s.image)));
      let next: unknown = props;
      let changed = false;
      unpinned.forEach((site, i) => {
        const v = verdicts[i]!;
        if (v.allowed && v.digest) {
          next = setAtPath(next, site.path, pinReference(site.image, v.digest));
          changed = true;
        }
      });
      return changed ? (next as Record<string, unknown>) : undefined;
    },
  };
}
