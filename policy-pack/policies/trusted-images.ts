import type { PolicyConfigSchema, ReportViolation, ResourceValidationPolicy } from '@pulumi/policy';
import { isPolicyError } from '../supply-chain/policy-error';
import type { ImageVerdict } from '../supply-chain/types';
import { verdictDiagnostics } from '../supply-chain/verdict-text';
import { opaqueWorkloadReason, rawProperties, scanWorkload } from '../workloads';
import { LEVEL_SCHEMA, readConfig } from './support/config';
import { notImagePropertiesSchema, type NotImageConfig } from './support/not-image-config';
import { report, resourceLabel } from './support/report';
import type { VerificationSessions } from './support/verification';
import {
  settingsFrom,
  verificationConfigProperties,
  type VerificationConfig,
} from './support/verification-config';
import { knownImageOrReport, reportScanProblems, siteSubject } from './support/workload-images';

export const TRUSTED_IMAGES = 'trusted-images';

export interface TrustedImagesConfig extends VerificationConfig, NotImageConfig {
  /** Level of the diagnostic for resources that hide their workloads (helm.sh/v3 Release). Default mandatory. */
  hiddenWorkloadsLevel: 'advisory' | 'mandatory' | 'disabled';
}

export const trustedImagesConfigSchema: PolicyConfigSchema = {
  properties: {
    ...verificationConfigProperties(),
    hiddenWorkloadsLevel: { ...LEVEL_SCHEMA, default: 'mandatory' },
    notImageProperties: notImagePropertiesSchema(),
  },
};

const REQUIREMENT = 'trusted image';

export interface TrustedImagesDeps {
  sessions: VerificationSessions;
}

/**
 * Every image of every workload satisfies the trust policy: one diagnostic per image and unmet
 * requirement (signature, SBOM, provenance, rebuild quorum, ...), and an advisory one for each exemption
 * in force. Anything that stops verification (no or bad trust policy, unreachable registry, internal
 * error) blocks with the reason.
 */
export function createTrustedImagesPolicy(deps: TrustedImagesDeps): ResourceValidationPolicy {
  return {
    name: TRUSTED_IMAGES,
    description:
      'Every container image satisfies the trust policy: signature, SBOM, provenance and rebuild quorum.',
    enforcementLevel: 'mandatory',
    configSchema: trustedImagesConfigSchema,
    validateResource: async (args, reportViolation) => {
      const resource = resourceLabel(args.name, args.type);
      const props = rawProperties(args.props);
      const hidden = opaqueWorkloadReason(args.type);
      const cfg = readConfig<TrustedImagesConfig>(trustedImagesConfigSchema, args.getConfig());
      // an invalid config declares nothing: every image property is then checked (and the config reported)
      const notImageProperties = cfg.ok ? cfg.config.notImageProperties : undefined;
      const scan = hidden ? undefined : scanWorkload(args.type, props, { notImageProperties });
      if (!hidden && !scan) return;

      if (!cfg.ok) {
        report(reportViolation, {
          code: 'CONFIG_INVALID',
          resource,
          requirement: REQUIREMENT,
          expected: `a valid ${TRUSTED_IMAGES} config`,
          found: cfg.problems.join('; '),
          hint: 'Fix the policy pack config; until then every workload is blocked.',
        });
        return;
      }
      if (hidden) {
        const level = cfg.config.hiddenWorkloadsLevel;
        if (level !== 'disabled') {
          report(
            reportViolation,
            {
              code: 'WORKLOADS_HIDDEN',
              resource,
              requirement: REQUIREMENT,
              expected: 'workloads the pack can verify',
              found: hidden,
            },
            level,
          );
        }
        return;
      }
      if (!scan) return;
      reportScanProblems(reportViolation, resource, REQUIREMENT, scan.problems);
      const sites = scan.images
        .map((site) => ({ site, image: knownImageOrReport(reportViolation, resource, REQUIREMENT, site) }))
        .filter((s): s is { site: typeof s.site; image: string } => s.image !== undefined);
      if (sites.length === 0) return;

      const trustPolicy = cfg.config.trustPolicy;
      if (!trustPolicy) {
        for (const { site, image } of sites) {
          report(reportViolation, {
            code: 'TRUST_POLICY_MISSING',
            resource,
            subject: siteSubject(site, image),
            requirement: REQUIREMENT,
            expected: `a trust policy under ${TRUSTED_IMAGES}.trustPolicy in the policy pack config`,
            found: 'none',
            hint: 'Without a trust policy no image can be verified, so none is allowed.',
          });
        }
        return;
      }
      const session = deps.sessions.sessionFor(settingsFrom({ ...cfg.config, trustPolicy }));
      if (!session.ok) {
        const e = session.error;
        for (const { site, image } of sites) {
          report(reportViolation, {
            code: isPolicyError(e) ? 'POLICY_INVALID' : 'INTERNAL_ERROR',
            resource,
            subject: siteSubject(site, image),
            requirement: REQUIREMENT,
            expected: 'a usable trust policy',
            found: e instanceof Error ? e.message : String(e),
            hint: 'Fix the trust policy; until then every image is blocked.',
          });
        }
        return;
      }
      const verdicts = await Promise.all(sites.map(({ image }) => session.session.verify(image)));
      sites.forEach(({ site }, i) =>
        reportVerdict(reportViolation, resource, siteSubject(site), verdicts[i]!),
      );
    },
  };
}

/** The shared verdict wording (supply-chain/verdict-text.ts), reported with this resource's label. */
function reportVerdict(
  reportViolation: ReportViolation,
  resource: string,
  site: string,
  verdict: ImageVerdict,
): void {
  for (const d of verdictDiagnostics(verdict, site, REQUIREMENT)) {
    const { level, ...fields } = d;
    report(reportViolation, { ...fields, resource }, level);
  }
}
