import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CYCLONEDX_SPEC_VERSIONS } from './predicate-types';
import spdxSchema from './schemas/spdx-2.x-document.schema.json';
import type { SbomFormat } from './types';

/**
 * SBOM predicates: SPDX 2.2/2.3 JSON and CycloneDX 1.2-1.7 JSON, either as the predicate itself or in
 * cosign's `{"Data": ..., "Timestamp": ...}` wrapper (Data being the document or its JSON text). A
 * document counts only when it validates against its format's schema and lists at least one
 * package/component: an empty SBOM says nothing about what is inside the image. Which predicate types
 * are SBOMs is decided in predicate-types.ts (shared with the Kyverno renderer).
 */

export { sbomFormatOf } from './predicate-types';

export interface ValidSbom {
  format: SbomFormat;
  /** `SPDX-2.3`, `CycloneDX 1.6`. */
  version: string;
  /** Packages (SPDX) or components (CycloneDX) listed. */
  components: number;
}

export type SbomCheck = { sbom: ValidSbom } | { problem: string };

const CYCLONEDX_VERSIONS = CYCLONEDX_SPEC_VERSIONS;
const CYCLONEDX_SCHEMA_DIR = path.join(
  path.dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')),
  'res',
  'schema',
);

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function readSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(CYCLONEDX_SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;
}

function sbomAjv(): Ajv {
  if (ajv !== undefined) return ajv;
  // strict off: the CycloneDX schemas use keywords and formats (iri-reference, idn-email) Ajv's strict
  // mode rejects; validateFormats stays on for the formats ajv-formats knows.
  const a = new Ajv({
    strict: false,
    allErrors: false,
    formats: { 'iri-reference': true, 'idn-email': true },
  });
  addFormats(a);
  // bom-1.x refers to its helpers by their SNAPSHOT file names; register them under those ids
  // (bom-1.7 also needs the cryptography definitions).
  for (const [file, id] of [
    ['spdx.SNAPSHOT.schema.json', 'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json'],
    ['jsf-0.82.SNAPSHOT.schema.json', 'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json'],
    [
      'cryptography-defs.SNAPSHOT.schema.json',
      'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json',
    ],
  ] as const) {
    a.addSchema({ ...readSchema(file), $id: id });
  }
  ajv = a;
  return a;
}

function validatorFor(key: string): ValidateFunction {
  let v = validators.get(key);
  if (v === undefined) {
    v =
      key === 'spdx'
        ? sbomAjv().compile(spdxSchema)
        : sbomAjv().compile(readSchema(`bom-${key}.SNAPSHOT.schema.json`));
    validators.set(key, v);
  }
  return v;
}

/** Compiles every SBOM schema now (a long-lived verifier pays this once, before the first image). */
export function warmSbomSchemas(): void {
  validatorFor('spdx');
  for (const v of CYCLONEDX_VERSIONS) validatorFor(v);
}

function unwrapCosignData(predicate: Record<string, unknown>): { doc: unknown } | { problem: string } {
  const keys = Object.keys(predicate);
  const isWrapper = 'Data' in predicate && keys.every((k) => k === 'Data' || k === 'Timestamp');
  if (!isWrapper) return { doc: predicate };
  const data = predicate.Data;
  if (typeof data !== 'string') return { doc: data };
  try {
    return { doc: JSON.parse(data) as unknown };
  } catch (e) {
    return { problem: `cosign's Data wrapper holds text that is not JSON (${(e as Error).message})` };
  }
}

function firstError(v: ValidateFunction): string {
  const e = v.errors?.[0];
  return e === undefined ? 'invalid' : `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`;
}

/** Validates an SBOM predicate announced as `format`. */
export function checkSbom(format: SbomFormat, predicate: Record<string, unknown>): SbomCheck {
  const unwrapped = unwrapCosignData(predicate);
  if ('problem' in unwrapped) return unwrapped;
  const doc = unwrapped.doc as Record<string, unknown> | null;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { problem: 'the SBOM is not a JSON object' };

  if (format === 'spdx') {
    const v = validatorFor('spdx');
    if (!v(doc)) return { problem: `not a valid SPDX 2.2/2.3 JSON document: ${firstError(v)}` };
    const packages = Array.isArray(doc.packages) ? doc.packages.length : 0;
    if (packages === 0) return { problem: 'the SPDX document lists no packages' };
    return { sbom: { format, version: String(doc.spdxVersion), components: packages } };
  }

  if (doc.bomFormat !== 'CycloneDX')
    return { problem: `bomFormat is ${JSON.stringify(doc.bomFormat)}, not "CycloneDX"` };
  const version = doc.specVersion;
  if (typeof version !== 'string' || !(CYCLONEDX_VERSIONS as readonly string[]).includes(version)) {
    return {
      problem: `CycloneDX specVersion ${JSON.stringify(version)} is not one of ${CYCLONEDX_VERSIONS.join(', ')}`,
    };
  }
  const v = validatorFor(version);
  if (!v(doc)) return { problem: `not a valid CycloneDX ${version} JSON document: ${firstError(v)}` };
  const components = Array.isArray(doc.components) ? doc.components.length : 0;
  if (components === 0) return { problem: 'the CycloneDX BOM lists no components' };
  return { sbom: { format, version: `CycloneDX ${version}`, components } };
}
