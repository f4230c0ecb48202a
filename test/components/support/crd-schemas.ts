import Ajv, { type ValidateFunction } from 'ajv';
import * as fs from 'node:fs';
import { parseAllDocuments } from 'yaml';

interface Crd {
  kind: string;
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: object } }[];
  };
}

// Kubernetes schemas carry x-kubernetes-* keywords and k8s formats (int32, int-or-string...): ajv is told
// to skip what it does not know rather than fail, and checks types, enums, required and patterns.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

/** An ajv validator for one version of the CRD in `file`, validating whole objects the way the API server does. */
export function crdValidator(file: string, version: string): ValidateFunction {
  // The spire-crds files are Helm templates: drop template-only lines before parsing.
  const text = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*\{\{.*\}\}\s*$/.test(l))
    .join('\n');
  const docs = parseAllDocuments(text).map((d) => d.toJS() as Crd);
  const crd = docs.find((d) => d?.kind === 'CustomResourceDefinition');
  if (!crd) throw new Error(`no CustomResourceDefinition in ${file}`);
  const v = crd.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${file} has no version ${version}`);
  return ajv.compile(v.schema.openAPIV3Schema);
}

/** Readable ajv errors for assertion messages. */
export function schemaErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`).join('\n');
}
