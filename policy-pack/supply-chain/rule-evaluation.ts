import type { UnsignedEvidence } from '../registry/types';
import type { CollectedEvidence, RejectedEvidence, VerifiedStatement } from './evidence';
import {
  acceptedDescription,
  describePredicateType,
  isProvenancePredicate,
  isVsaPredicate,
  predicateFamilyOf,
  sbomFormatName,
  sbomFormatOf,
  type PredicateFamily,
} from './predicate-types';
import {
  parseProvenance,
  provenanceConstraintProblem,
  sameSource,
  vsaProblem,
  type Provenance,
} from './provenance';
import { checkSbom } from './sbom';
import type { MatchedRule } from './trust-policy';
import type { Finding, ImageVerdict, Requirement, SbomFormat, VerificationCode } from './types';

/**
 * Applies one rule to the evidence collected for one manifest: one finding per unmet requirement (the
 * most telling code, with everything that was found), and for each met requirement the signers that
 * met it. Pure: no I/O, no cryptography (the evidence is already verified).
 */

export interface RuleOutcome {
  findings: Finding[];
  satisfied: ImageVerdict['satisfied'];
}

const MAX_LISTED = 6;

function short(digest: string): string {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}

function describeRejection(r: RejectedEvidence): string {
  return `${r.origin.source} ${short(r.origin.descriptor)}: ${r.detail}`;
}

function list(items: string[]): string {
  if (items.length === 0) return '';
  const shown = items.slice(0, MAX_LISTED).join('; ');
  return items.length > MAX_LISTED ? `${shown}; and ${items.length - MAX_LISTED} more` : shown;
}

/** The most telling code among rejections: replay beats identity beats cryptography beats shape. */
function codeForRejections(
  rejections: { reason: RejectedEvidence['reason'] }[],
  malformedCode: VerificationCode,
): VerificationCode | undefined {
  const reasons = new Set(rejections.map((r) => r.reason));
  if (reasons.has('other-digest')) return 'DIGEST_MISMATCH';
  if (reasons.has('untrusted-signer')) return 'SIGNER_UNTRUSTED';
  if (reasons.has('bad-signature')) return 'SIGNATURE_INVALID';
  if (reasons.has('malformed')) return malformedCode;
  return undefined;
}

export function hintFor(code: VerificationCode, requirement: Requirement): string {
  switch (code) {
    case 'DIGEST_MISMATCH':
      return 'Evidence made for another image digest never counts: sign or attest this exact digest (deploy by digest, not by tag).';
    case 'SIGNER_UNTRUSTED':
      return `Sign with an identity the rule accepts for ${requirement}, or add that signer to the trust policy if it is trusted.`;
    case 'SIGNATURE_INVALID':
      return 'Re-sign the image: the signature, certificate chain, transparency-log entry or timestamp did not verify against the trusted root.';
    case 'SIGNATURE_MISSING':
      return 'Sign the image digest (e.g. `cosign sign <image>@<digest>`) with a signer the rule lists.';
    case 'SBOM_MISSING':
      return 'Attach a signed SBOM attestation (SPDX or CycloneDX JSON) for this digest, e.g. `cosign attest --type spdxjson`.';
    case 'SBOM_INVALID':
      return 'Regenerate the SBOM: it must validate against its SPDX 2.2/2.3 or CycloneDX 1.2-1.7 JSON schema and list the packages in the image.';
    case 'SBOM_FORMAT_NOT_ALLOWED':
      return 'Attest the SBOM in a format and version the rule accepts (see expected), or allow that format in the rule.';
    case 'PROVENANCE_MISSING':
      return 'Attach signed SLSA provenance (v1, v0.2 or v0.1) for this digest from the build that produced it.';
    case 'PROVENANCE_INVALID':
      return 'The provenance must be an in-toto statement with a SLSA v1, v0.2 or v0.1 predicate that names its builder (a non-empty builder.id).';
    case 'PROVENANCE_CONSTRAINT':
      return "Build the image with the builder and from the source repository the rule names, or correct the rule's constraints.";
    case 'REBUILD_QUORUM_NOT_MET':
      return 'Have more of the listed rebuilders rebuild this digest from the same source and sign SLSA provenance or a PASSED VSA for it.';
    default:
      return 'See the expected and found values.';
  }
}

function finding(
  requirement: Requirement,
  code: VerificationCode,
  expected: string,
  found: string,
  rule: MatchedRule,
  subject: string | undefined,
): Finding {
  const f: Finding = {
    requirement,
    code,
    expected,
    found,
    hint: hintFor(code, requirement),
    rule: rule.name,
  };
  if (subject !== undefined) f.subject = subject;
  return f;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

function signerList(names: string[]): string {
  return names.join(', ');
}

/** Routes a rejected attestation to a requirement by its (unverified) predicate type. */
function rejectionsFor(
  ev: CollectedEvidence,
  test: (predicateType: string | undefined) => boolean,
): RejectedEvidence[] {
  return ev.rejected.filter((r) => r.kind === 'attestation' && test(r.predicateType));
}

/** Rejected attestations whose purpose cannot be told: listed under every attestation requirement. */
function unroutedRejections(ev: CollectedEvidence): string[] {
  return ev.rejected
    .filter((r) => r.kind === 'attestation' && r.predicateType === undefined)
    .map((r) => `unidentified attestation ${describeRejection(r)}`);
}

const FORMAT_NAME: Record<SbomFormat, string> = { spdx: 'SPDX', cyclonedx: 'CycloneDX' };

/** Where an unsigned item was found, for people. */
function unsignedWhere(u: UnsignedEvidence): string {
  switch (u.source) {
    case 'cosign-sbom':
      return `attached with cosign attach sbom (${u.location ?? `layer ${short(u.descriptor.digest)}`})`;
    case 'referrer':
      return `as an unsigned referrer ${short(u.descriptor.digest)}${u.descriptor.artifactType ? ` (${u.descriptor.artifactType})` : ''}`;
    case 'buildkit':
      return `in a BuildKit attestation manifest ${short(u.descriptor.digest)}`;
  }
}

function unsignedNote(ev: CollectedEvidence, test: (predicateType: string | undefined) => boolean): string[] {
  const found = ev.unsigned.filter((u) => test(u.predicateType));
  if (found.length === 0) return [];
  const what = found.map(
    (u) =>
      `${u.predicateType ? describePredicateType(u.predicateType) : 'an attestation'} ${unsignedWhere(u)}`,
  );
  return [
    `${found.length} unsigned ${found.length === 1 ? 'attestation' : 'attestations'} (never counted): ${list(what)}`,
  ];
}

/** Unsigned SBOMs (`cosign attach sbom`, unsigned referrers, BuildKit SBOM attestations). */
function unsignedSboms(ev: CollectedEvidence): UnsignedEvidence[] {
  return ev.unsigned.filter((u) => u.sbomFormat !== undefined);
}

/** The families of predicate types a requirement reads. */
const SBOM_FAMILIES: readonly PredicateFamily[] = ['spdx', 'cyclonedx'];

function inFamilies(families: readonly PredicateFamily[]): (pt: string | undefined) => boolean {
  return (pt) => {
    const f = predicateFamilyOf(pt);
    return f !== undefined && families.includes(f);
  };
}

/** `found <type>; this rule accepts <...>` for an attestation of a known family but an unaccepted type. */
function notAccepted(where: string, predicateType: string, accepted: string): string {
  return `${where}: found ${describePredicateType(predicateType)}; this rule accepts ${accepted}`;
}

export class RuleEvaluator {
  private readonly findings: Finding[] = [];
  private readonly satisfied: ImageVerdict['satisfied'] = [];

  constructor(
    private readonly rule: MatchedRule,
    private readonly ev: CollectedEvidence,
    /** Label of the manifest when it is not the deployed one. */
    private readonly subject?: string,
  ) {}

  evaluate(): RuleOutcome {
    const r = this.rule.rule;
    if (r.signature) this.signature(r.signature.signers);
    if (r.sbom) this.sbom(r.sbom.signers, r.sbom.formats ?? ['spdx', 'cyclonedx']);
    const originals = r.provenance || r.reproducible ? this.provenance() : [];
    if (r.reproducible) this.reproducible(r.reproducible.rebuilders, r.reproducible.threshold, originals);
    return { findings: this.findings, satisfied: this.satisfied };
  }

  /** `no <what> attached`, saying where it was looked for when the rule stores evidence elsewhere. */
  private nothing(what: string): string {
    const where = this.ev.storedIn;
    return `no ${what} attached${where ? ` in ${where} (the rule's repository, where its signatures and attestations are stored)` : ''}`;
  }

  private meet(requirement: Requirement, by: string[]): void {
    const s: ImageVerdict['satisfied'][number] = { requirement, by: unique(by) };
    if (this.subject !== undefined) s.subject = this.subject;
    this.satisfied.push(s);
  }

  private fail(
    requirement: Requirement,
    code: VerificationCode,
    expected: string,
    found: string,
    hint?: string,
  ): void {
    const f = finding(requirement, code, expected, found, this.rule, this.subject);
    if (hint !== undefined) f.hint = hint;
    this.findings.push(f);
  }

  private signature(signers: string[]): void {
    const ok = this.ev.signatures.filter((s) => signers.includes(s.signer));
    if (ok.length > 0)
      return this.meet(
        'signature',
        ok.map((s) => s.signer),
      );
    const others = this.ev.signatures.map((s) => ({
      reason: 'untrusted-signer' as const,
      text: `${s.origin.source} ${short(s.origin.descriptor)}: valid signature by ${s.signer} (${s.identity}), which the rule does not accept here`,
    }));
    const rejected = this.ev.rejected
      .filter((x) => x.kind === 'signature')
      .map((x) => ({ reason: x.reason, text: describeRejection(x) }));
    const all = [...others, ...rejected];
    const code = codeForRejections(all, 'SIGNATURE_INVALID') ?? 'SIGNATURE_MISSING';
    this.fail(
      'signature',
      code,
      `a valid signature of ${this.ev.digest} by one of: ${signerList(signers)}`,
      all.length === 0 ? this.nothing('signature') : list(all.map((x) => x.text)),
    );
  }

  /** Statements of a kind, split by whether their signer is one the requirement accepts. */
  private statements(
    test: (pt: string) => boolean,
    signers: string[],
  ): [VerifiedStatement[], VerifiedStatement[]] {
    const of = this.ev.statements.filter((s) => test(s.statement.predicateType));
    return [of.filter((s) => signers.includes(s.signer)), of.filter((s) => !signers.includes(s.signer))];
  }

  private sbom(signers: string[], formats: SbomFormat[]): void {
    // Routing by family: an SBOM of a version or format the rule does not accept is named, not ignored.
    const isSbom = inFamilies(SBOM_FAMILIES);
    const accepted = formats.map((f) => acceptedDescription(f)).join(' or ');
    const [trusted, untrusted] = this.statements(isSbom, signers);
    const problems: { code: VerificationCode; text: string }[] = [];
    const by: string[] = [];
    for (const st of trusted) {
      const pt = st.statement.predicateType;
      const format = sbomFormatOf(pt);
      const where = `${st.origin.source} ${short(st.origin.descriptor)} by ${st.signer}`;
      if (format === undefined || !formats.includes(format)) {
        problems.push({ code: 'SBOM_FORMAT_NOT_ALLOWED', text: notAccepted(where, pt, accepted) });
        continue;
      }
      const checked = checkSbom(format, st.statement.predicate);
      if ('problem' in checked) problems.push({ code: 'SBOM_INVALID', text: `${where}: ${checked.problem}` });
      else by.push(st.signer);
    }
    if (by.length > 0) return this.meet('sbom', by);
    const rejected = rejectionsFor(this.ev, isSbom);
    const unsigned = unsignedSboms(this.ev);
    const texts = [
      ...problems.map((p) => p.text),
      ...untrusted.map(
        (s) =>
          `${s.origin.source} ${short(s.origin.descriptor)}: SBOM signed by ${s.signer}, not accepted here`,
      ),
      ...rejected.map(describeRejection),
      ...unroutedRejections(this.ev),
      ...unsigned.map(
        (u) =>
          `an unsigned ${FORMAT_NAME[u.sbomFormat!]} SBOM ${unsignedWhere(u)}: unsigned SBOMs never count`,
      ),
    ];
    const code =
      problems.find((p) => p.code === 'SBOM_INVALID')?.code ??
      problems[0]?.code ??
      codeForRejections(
        [...untrusted.map(() => ({ reason: 'untrusted-signer' as const })), ...rejected],
        'SBOM_INVALID',
      ) ??
      'SBOM_MISSING';
    this.fail(
      'sbom',
      code,
      `a signed ${formats.map(sbomFormatName).join(' or ')} JSON SBOM for ${this.ev.digest} that lists its components, by one of: ${signerList(signers)}`,
      texts.length === 0 ? this.nothing('SBOM attestation') : list(texts),
      code === 'SBOM_MISSING' && unsigned.length > 0 ? signUnsignedSbomHint(unsigned) : undefined,
    );
  }

  /** Checks the provenance requirement (if any) and returns the original provenance rebuilds compare against. */
  private provenance(): Provenance[] {
    const r = this.rule.rule;
    const rebuilders = r.reproducible?.rebuilders ?? [];
    const signers =
      r.provenance?.signers ?? (r.signature?.signers ?? []).filter((s) => !rebuilders.includes(s));
    const isProv = inFamilies(['provenance']);
    const [trusted, untrusted] = this.statements(isProv, signers);
    const originals: Provenance[] = [];
    const by: string[] = [];
    const problems: { code: VerificationCode; text: string }[] = [];
    for (const st of trusted) {
      const where = `${st.origin.source} ${short(st.origin.descriptor)} by ${st.signer}`;
      if (!isProvenancePredicate(st.statement.predicateType)) {
        const text = notAccepted(where, st.statement.predicateType, acceptedDescription('provenance'));
        problems.push({ code: 'PROVENANCE_INVALID', text });
        continue;
      }
      const parsed = parseProvenance(st.statement.predicateType, st.statement.predicate);
      if ('problem' in parsed) {
        problems.push({ code: 'PROVENANCE_INVALID', text: `${where}: ${parsed.problem}` });
        continue;
      }
      const constraint = r.provenance
        ? provenanceConstraintProblem(parsed.provenance, r.provenance)
        : undefined;
      if (constraint !== undefined) {
        problems.push({ code: 'PROVENANCE_CONSTRAINT', text: `${where}: ${constraint}` });
        continue;
      }
      originals.push(parsed.provenance);
      by.push(st.signer);
    }
    if (!r.provenance) return originals;
    if (by.length > 0) {
      this.meet('provenance', by);
      return originals;
    }
    const rejected = rejectionsFor(this.ev, isProv);
    const untrustedHere = untrusted.filter((s) => !rebuilders.includes(s.signer));
    const texts = [
      ...problems.map((p) => p.text),
      ...untrustedHere.map(
        (s) =>
          `${s.origin.source} ${short(s.origin.descriptor)}: provenance signed by ${s.signer}, not accepted here`,
      ),
      ...rejected.map(describeRejection),
      ...unroutedRejections(this.ev),
      ...unsignedNote(this.ev, isProv),
    ];
    const code =
      problems.find((p) => p.code === 'PROVENANCE_CONSTRAINT')?.code ??
      problems[0]?.code ??
      codeForRejections(
        [...untrustedHere.map(() => ({ reason: 'untrusted-signer' as const })), ...rejected],
        'PROVENANCE_INVALID',
      ) ??
      'PROVENANCE_MISSING';
    const constraints = [
      r.provenance.builderId !== undefined ? `builder ${r.provenance.builderId}` : undefined,
      r.provenance.builderIdRegExp !== undefined
        ? `builder matching ^(?:${r.provenance.builderIdRegExp})$`
        : undefined,
      r.provenance.sourceRepository !== undefined ? `source ${r.provenance.sourceRepository}` : undefined,
    ].filter((x) => x !== undefined);
    this.fail(
      'provenance',
      code,
      `signed SLSA provenance (v1, v0.2 or v0.1) for ${this.ev.digest} by one of: ${signerList(r.provenance.signers)}` +
        (constraints.length > 0 ? `, with ${constraints.join(' and ')}` : ''),
      texts.length === 0 ? this.nothing('provenance attestation') : list(texts),
    );
    return originals;
  }

  private reproducible(rebuilders: string[], threshold: number, originals: Provenance[]): void {
    // Rebuilder name -> how it counted. A quorum is of independent rebuilders, so one key or one
    // certificate identity counts once however many names it verifies as (two names sharing a key,
    // overlapping keyless patterns): which name a bundle verifies as depends only on signer order.
    const counted = new Map<string, string>();
    const countedIdentities = new Map<string, string>();
    const notes: string[] = [];
    const isRebuildEvidence = inFamilies(['provenance', 'vsa']);
    for (const st of this.ev.statements) {
      const pt = st.statement.predicateType;
      if (!rebuilders.includes(st.signer) || !isRebuildEvidence(pt)) continue;
      const where = `${st.origin.source} ${short(st.origin.descriptor)} by ${st.signer}`;
      if (!isVsaPredicate(pt) && !isProvenancePredicate(pt)) {
        const family = predicateFamilyOf(pt) === 'vsa' ? 'vsa' : 'provenance';
        notes.push(notAccepted(where, pt, acceptedDescription(family)));
        continue;
      }
      if (counted.has(st.signer)) {
        notes.push(`${where}: ${st.signer} already counted (one signer counts once)`);
        continue;
      }
      const sameIdentity = countedIdentities.get(st.identity);
      if (sameIdentity !== undefined) {
        notes.push(`${where}: ${st.identity} already counted as ${sameIdentity} (one identity counts once)`);
        continue;
      }
      if (isVsaPredicate(pt)) {
        const problem = vsaProblem(st.statement.predicate);
        if (problem !== undefined) notes.push(`${where}: ${problem}`);
        else {
          counted.set(st.signer, 'VSA PASSED');
          countedIdentities.set(st.identity, st.signer);
        }
        continue;
      }
      const parsed = parseProvenance(pt, st.statement.predicate);
      if ('problem' in parsed) {
        notes.push(`${where}: ${parsed.problem}`);
      } else if (originals.length === 0) {
        notes.push(`${where}: no trusted original provenance to compare the rebuild's source with`);
      } else if (!originals.some((o) => sameSource(o, parsed.provenance))) {
        const theirs = parsed.provenance.sources
          .map((s) => `${s.repository}@${s.digests.join('/')}`)
          .join(', ');
        notes.push(`${where}: rebuilt from ${theirs || 'no pinned source'}, not the original's source`);
      } else {
        counted.set(st.signer, 'rebuild provenance');
        countedIdentities.set(st.identity, st.signer);
      }
    }
    if (counted.size >= threshold) return this.meet('reproducible', [...counted.keys()]);
    const untrusted = this.ev.statements
      .filter((s) => isVsaPredicate(s.statement.predicateType) && !rebuilders.includes(s.signer))
      .map(
        (s) =>
          `${s.origin.source} ${short(s.origin.descriptor)}: VSA signed by ${s.signer}, not a listed rebuilder`,
      );
    const rejected = rejectionsFor(this.ev, isRebuildEvidence).map(describeRejection);
    const countedText = [...counted.entries()].map(([s, how]) => `${s} (${how})`);
    this.fail(
      'reproducible',
      'REBUILD_QUORUM_NOT_MET',
      `at least ${threshold} distinct rebuilders of ${signerList(rebuilders)} attesting a rebuild of ${this.ev.digest} from the original source`,
      `${counted.size} of ${threshold}${countedText.length > 0 ? ` (${countedText.join(', ')})` : ''}` +
        (this.ev.storedIn ? ` in ${this.ev.storedIn} (the rule's repository)` : '') +
        (notes.length +
          untrusted.length +
          rejected.length +
          this.ev.rejected.length +
          this.ev.unsigned.length >
        0
          ? `; ${list([...notes, ...untrusted, ...rejected, ...unroutedRejections(this.ev), ...unsignedNote(this.ev, isRebuildEvidence)])}`
          : ''),
    );
  }
}

/** How to turn the unsigned SBOMs found into evidence: sign them as attestations of this digest. */
function signUnsignedSbomHint(unsigned: UnsignedEvidence[]): string {
  const formats = [...new Set(unsigned.map((u) => u.sbomFormat!))];
  const commands = formats.map((f) =>
    f === 'spdx'
      ? '`cosign attest --type spdxjson --predicate sbom.spdx.json <image>@<digest>`'
      : '`cosign attest --type cyclonedx --predicate sbom.cdx.json <image>@<digest>`',
  );
  return (
    `An SBOM was found, but unsigned SBOMs (cosign attach sbom, unsigned referrers, BuildKit attestations) never count: ` +
    `sign it as an attestation of this digest with a signer the rule lists, ${commands.join(' or ')}.`
  );
}
