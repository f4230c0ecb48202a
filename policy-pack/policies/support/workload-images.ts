import type { ReportViolation } from '@pulumi/policy';
import { formatPath, type ImageSite, type ScanProblem } from '../../workloads';
import { report } from './report';

/**
 * The image policies share how they treat what they cannot read: unknown during preview is advisory
 * (checked again at update, when it is known); missing or malformed is a violation at the policy's level
 * (fail closed: an image nobody can read is an image nobody verified).
 */
export function reportScanProblems(
  reportViolation: ReportViolation,
  resource: string,
  requirement: string,
  problems: ScanProblem[],
): void {
  for (const p of problems) {
    if (p.state === 'unknown') {
      report(
        reportViolation,
        {
          code: 'VALUE_UNKNOWN',
          resource,
          subject: formatPath(p.path),
          requirement,
          expected: p.expected,
          found: `${p.found} during preview`,
          hint: 'It is checked when the value is known, at update.',
        },
        'advisory',
      );
    } else {
      report(reportViolation, {
        code: 'WORKLOAD_UNREADABLE',
        resource,
        subject: formatPath(p.path),
        requirement,
        expected: p.expected,
        found: p.found,
        hint: 'Images that cannot be read cannot be checked, so the workload is blocked.',
      });
    }
  }
}

export function siteSubject(site: ImageSite, image?: string): string {
  const what = `${site.kind === 'container' ? 'container' : site.kind} "${site.container}" (${formatPath(site.path)})`;
  return image === undefined ? what : `${what} image "${image}"`;
}

/** Reports a site whose image is not a known string; returns the reference when it is one. */
export function knownImageOrReport(
  reportViolation: ReportViolation,
  resource: string,
  requirement: string,
  site: ImageSite,
): string | undefined {
  switch (site.image.state) {
    case 'known':
      return site.image.reference;
    case 'unknown':
      report(
        reportViolation,
        {
          code: 'VALUE_UNKNOWN',
          resource,
          subject: siteSubject(site),
          requirement,
          expected: 'a known image reference',
          found: 'an image computed by another resource, unknown during preview',
          hint: 'It is checked when the value is known, at update.',
        },
        'advisory',
      );
      return undefined;
    case 'missing':
      report(reportViolation, {
        code: 'IMAGE_MISSING',
        resource,
        subject: siteSubject(site),
        requirement,
        expected: 'an image reference',
        found: 'no image',
      });
      return undefined;
    case 'invalid':
      report(reportViolation, {
        code: 'IMAGE_INVALID',
        resource,
        subject: siteSubject(site),
        requirement,
        expected: 'an image reference string',
        found: site.image.found,
      });
      return undefined;
  }
}
