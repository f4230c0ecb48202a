import type { RuleOutcome } from './rule-evaluation';
import type { ExemptionMatch, MatchedRule } from './trust-policy';
import type { Finding, ImageVerdict, Requirement, VerificationCode } from './types';

/**
 * Assembles the verdict for one image from the outcomes for each manifest the rule covers, then applies
 * an exemption: one in force allows the image (its findings stay, to show what is being waived); an
 * expired one allows nothing and says so.
 */

export interface VerdictInput {
  image: string;
  digest?: string;
  rule?: MatchedRule;
  outcomes: RuleOutcome[];
  exemption?: ExemptionMatch;
}

export function assembleVerdict(input: VerdictInput): ImageVerdict {
  const findings = input.outcomes.flatMap((o) => o.findings);
  const satisfied = input.outcomes.flatMap((o) => o.satisfied);
  let allowed = findings.length === 0;
  const verdict: ImageVerdict = { image: input.image, allowed, findings, satisfied };
  if (input.digest !== undefined) verdict.digest = input.digest;
  if (input.rule !== undefined) verdict.rule = input.rule.name;

  const ex = input.exemption;
  if (ex !== undefined && !ex.expired) {
    allowed = true;
    verdict.exemption = ex.exemption;
    satisfied.push({ requirement: 'exemption', by: [ex.exemption.ticket] });
  } else if (ex !== undefined && !allowed) {
    findings.push({
      requirement: 'exemption',
      code: 'EXEMPTION_EXPIRED',
      expected: `an exemption in force for ${ex.exemption.image}`,
      found: `exemption ${ex.exemption.ticket} (${ex.exemption.reason}) expired at ${ex.expiresAt.toISOString()}`,
      hint: 'Meet the requirements, or renew the exemption with a new expiry if the risk is still accepted.',
    });
  }
  verdict.allowed = allowed;
  return verdict;
}

/** A verdict that blocks because verification could not run (registry, configuration, internal). */
export function failedVerdict(
  image: string,
  requirement: Requirement,
  code: VerificationCode,
  expected: string,
  found: string,
  hint: string,
  extra: { digest?: string; rule?: MatchedRule; exemption?: ExemptionMatch } = {},
): ImageVerdict {
  const f: Finding = { requirement, code, expected, found, hint };
  if (extra.rule !== undefined) f.rule = extra.rule.name;
  return assembleVerdict({
    image,
    digest: extra.digest,
    rule: extra.rule,
    outcomes: [{ findings: [f], satisfied: [] }],
    exemption: extra.exemption,
  });
}
