import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import { parseReference, repositoryName } from '../registry/reference';
import { rawProperties, scanWorkload } from '../workloads';
import { readConfig } from './support/config';
import { notImagePropertiesSchema, type NotImageConfig } from './support/not-image-config';
import { report, resourceLabel } from './support/report';
import { knownImageOrReport, reportScanProblems, siteSubject } from './support/workload-images';

export const ALLOWED_REGISTRIES = 'allowed-registries';

export interface AllowedRegistriesConfig extends NotImageConfig {
  /**
   * Allowed prefixes of the normalised repository (`registry/path`), matched on path boundaries:
   * `ghcr.io/acme` allows `ghcr.io/acme/app`, not `ghcr.io/acmecorp/app`. Docker Hub images normalise
   * to `docker.io/library/nginx`. Default none: every image is blocked until registries are configured.
   */
  allowedPrefixes: string[];
}

export const allowedRegistriesConfigSchema: PolicyConfigSchema = {
  properties: {
    allowedPrefixes: {
      type: 'array',
      default: [],
      maxItems: 256,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\s@:/][^\\s@]*$' },
    },
    notImageProperties: notImagePropertiesSchema(),
  },
};

const REQUIREMENT = 'allowed registry';

/** True when `repository` (normalised `registry/path`) is `prefix` or lies under it. */
export function underPrefix(repository: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, '').toLowerCase();
  const r = repository.toLowerCase();
  return r === p || r.startsWith(`${p}/`);
}

/** Images only from configured registry prefixes. */
export function createAllowedRegistriesPolicy(): ResourceValidationPolicy {
  return {
    name: ALLOWED_REGISTRIES,
    description: 'Every container image comes from a configured registry prefix.',
    enforcementLevel: 'mandatory',
    configSchema: allowedRegistriesConfigSchema,
    validateResource: (args, reportViolation) => {
      const cfg = readConfig<AllowedRegistriesConfig>(allowedRegistriesConfigSchema, args.getConfig());
      // an invalid config declares nothing: every image property is then checked (and the config reported)
      const notImageProperties = cfg.ok ? cfg.config.notImageProperties : undefined;
      const scan = scanWorkload(args.type, rawProperties(args.props), { notImageProperties });
      if (!scan) return;
      const resource = resourceLabel(args.name, args.type);
      if (!cfg.ok) {
        report(reportViolation, {
          code: 'CONFIG_INVALID',
          resource,
          requirement: REQUIREMENT,
          expected: `a valid ${ALLOWED_REGISTRIES} config`,
          found: cfg.problems.join('; '),
        });
        return;
      }
      const prefixes = cfg.config.allowedPrefixes;
      reportScanProblems(reportViolation, resource, REQUIREMENT, scan.problems);
      for (const site of scan.images) {
        const image = knownImageOrReport(reportViolation, resource, REQUIREMENT, site);
        if (image === undefined) continue;
        let repository: string;
        try {
          repository = repositoryName(parseReference(image));
        } catch (e) {
          report(reportViolation, {
            code: 'IMAGE_INVALID',
            resource,
            subject: siteSubject(site, image),
            requirement: REQUIREMENT,
            expected: 'a valid image reference',
            found: e instanceof Error ? e.message : String(e),
          });
          continue;
        }
        if (prefixes.some((p) => underPrefix(repository, p))) continue;
        report(reportViolation, {
          code: 'REGISTRY_NOT_ALLOWED',
          resource,
          subject: siteSubject(site, image),
          requirement: REQUIREMENT,
          expected: prefixes.length
            ? `a repository under ${prefixes.join(', ')}`
            : 'a configured registry prefix (none configured)',
          found: repository,
          hint: `Push the image to an allowed registry, or add its prefix to ${ALLOWED_REGISTRIES}.allowedPrefixes.`,
        });
      }
    },
  };
}
