import {
  parseProvenance,
  SLSA_PROVENANCE_V02,
  SLSA_PROVENANCE_V1,
  SLSA_VSA_V1,
  vsaProblem,
} from '../../policy-pack/supply-chain/provenance';
import { checkSbom } from '../../policy-pack/supply-chain/sbom';

/**
 * The in-toto predicates `trustops attest` signs, as `cosign attest --type` makes them (cosign
 * `cmd/cosign/cli/options/predicate.go` PredicateTypeMap and `pkg/cosign/attestation`): the `--type` name
 * maps to the same predicate URI, `custom` wraps the file as `{"Data": <text>, "Timestamp": <RFC 3339>}`,
 * every other type takes the file's JSON object as the predicate; a URI is used as the predicate type.
 *
 * Stricter than cosign where the trust policy reads the predicate: an SBOM must validate against its
 * SPDX/CycloneDX schema and list components, provenance must name its builder, a VSA must have PASSED;
 * signing evidence the policy would reject is refused before anything is signed (PREDICATE_INVALID).
 */

export const COSIGN_CUSTOM_PREDICATE = 'https://cosign.sigstore.dev/attestation/v1';
export const COSIGN_VULN_PREDICATE = 'https://cosign.sigstore.dev/attestation/vuln/v1';
export const SPDX_PREDICATE = 'https://spdx.dev/Document';
export const CYCLONEDX_PREDICATE = 'https://cyclonedx.org/bom';

/** cosign's `--type` names and the predicate type each stands for. */
export const COSIGN_PREDICATE_TYPES: Readonly<Record<string, string>> = {
  custom: COSIGN_CUSTOM_PREDICATE,
  slsaprovenance: SLSA_PROVENANCE_V02,
  slsaprovenance02: SLSA_PROVENANCE_V02,
  slsaprovenance1: SLSA_PROVENANCE_V1,
  spdx: SPDX_PREDICATE,
  spdxjson: SPDX_PREDICATE,
  cyclonedx: CYCLONEDX_PREDICATE,
  link: 'https://in-toto.io/Link/v1',
  vuln: COSIGN_VULN_PREDICATE,
  openvex: 'https://openvex.dev/ns',
};

export type PredicateErrorCode =
  | 'PREDICATE_TYPE_UNKNOWN' // neither a cosign --type name nor a URI
  | 'PREDICATE_NOT_JSON' // the file is not a JSON object where one is needed
  | 'PREDICATE_INVALID'; // the policy would reject it (SBOM schema, provenance shape, VSA result)

export class PredicateError extends Error {
  constructor(
    readonly code: PredicateErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PredicateError';
  }
}

export interface Predicate {
  /** How the user named it (`--type` value, or `sbom`/`provenance` for the dedicated flags). */
  label: string;
  predicateType: string;
  predicate: Record<string, unknown>;
}

/** The predicate type a `--type` value stands for, as cosign's ParsePredicateType. */
export function predicateTypeOf(type: string): string {
  const mapped = COSIGN_PREDICATE_TYPES[type];
  if (mapped !== undefined) return mapped;
  let url: URL | undefined;
  try {
    url = new URL(type);
  } catch {
    url = undefined;
  }
  if (!url || !/^[a-z][a-z0-9+.-]*:$/i.test(url.protocol)) {
    throw new PredicateError(
      'PREDICATE_TYPE_UNKNOWN',
      `--type ${JSON.stringify(type)} is neither one of ${Object.keys(COSIGN_PREDICATE_TYPES).join(', ')} nor a URI`,
    );
  }
  return type;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonObject(text: string, source: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new PredicateError('PREDICATE_NOT_JSON', `${source} is not JSON (${(e as Error).message})`);
  }
  if (!isRecord(v)) throw new PredicateError('PREDICATE_NOT_JSON', `${source} is not a JSON object`);
  if (typeof v._type === 'string' && typeof v.predicateType === 'string' && 'predicate' in v) {
    throw new PredicateError(
      'PREDICATE_NOT_JSON',
      `${source} is a whole in-toto statement; give its predicate (the statement is made for the image digest)`,
    );
  }
  return v;
}

/** RFC 3339 in whole seconds, as cosign's custom predicate Timestamp. */
export function rfc3339(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Checks what the trust policy checks of a predicate it reads; throws PREDICATE_INVALID. */
export function assertAcceptable(p: Predicate, source: string): void {
  let problem: string | undefined;
  if (p.predicateType === SPDX_PREDICATE || p.predicateType === CYCLONEDX_PREDICATE) {
    const checked = checkSbom(p.predicateType === SPDX_PREDICATE ? 'spdx' : 'cyclonedx', p.predicate);
    if ('problem' in checked) problem = checked.problem;
  } else if (p.predicateType === SLSA_PROVENANCE_V02 || p.predicateType === SLSA_PROVENANCE_V1) {
    const parsed = parseProvenance(p.predicateType, p.predicate);
    if ('problem' in parsed) problem = parsed.problem;
  } else if (p.predicateType === SLSA_VSA_V1) {
    problem = vsaProblem(p.predicate);
  }
  if (problem !== undefined) {
    throw new PredicateError('PREDICATE_INVALID', `${source} (${p.predicateType}): ${problem}`);
  }
}

/** `--predicate FILE --type TYPE`: the predicate cosign would make from this file, checked. */
export function predicateFromFile(type: string, text: string, source: string, now: Date): Predicate {
  const predicateType = predicateTypeOf(type);
  if (type === 'spdx') {
    throw new PredicateError(
      'PREDICATE_INVALID',
      `--type spdx attests SPDX tag-value text, which the trust policy cannot read; give SPDX JSON with --type spdxjson`,
    );
  }
  const predicate = type === 'custom' ? { Data: text, Timestamp: rfc3339(now) } : jsonObject(text, source);
  const p: Predicate = { label: type, predicateType, predicate };
  assertAcceptable(p, source);
  return p;
}

/** `--sbom FILE`: SPDX JSON (`spdxVersion`) or CycloneDX JSON (`bomFormat`), attested as `spdxjson`/`cyclonedx`. */
export function sbomFromFile(text: string, source: string): Predicate {
  const doc = jsonObject(text, source);
  let predicateType: string;
  if (typeof doc.spdxVersion === 'string') predicateType = SPDX_PREDICATE;
  else if (doc.bomFormat === 'CycloneDX') predicateType = CYCLONEDX_PREDICATE;
  else {
    throw new PredicateError(
      'PREDICATE_INVALID',
      `${source} is neither an SPDX JSON document (spdxVersion) nor a CycloneDX JSON BOM (bomFormat "CycloneDX")`,
    );
  }
  const p: Predicate = { label: 'sbom', predicateType, predicate: doc };
  assertAcceptable(p, source);
  return p;
}

/** `--provenance FILE`: SLSA v1 (`buildDefinition`) or v0.2 (`builder`) provenance, as `slsaprovenance1`/`slsaprovenance`. */
export function provenanceFromFile(text: string, source: string): Predicate {
  const doc = jsonObject(text, source);
  let predicateType: string;
  if (isRecord(doc.buildDefinition) || isRecord(doc.runDetails)) predicateType = SLSA_PROVENANCE_V1;
  else if (isRecord(doc.builder)) predicateType = SLSA_PROVENANCE_V02;
  else {
    throw new PredicateError(
      'PREDICATE_INVALID',
      `${source} is neither SLSA v1 provenance (buildDefinition, runDetails) nor SLSA v0.2 provenance (builder, buildType)`,
    );
  }
  const p: Predicate = { label: 'provenance', predicateType, predicate: doc };
  assertAcceptable(p, source);
  return p;
}
