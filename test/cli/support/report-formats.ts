import { strict as assert } from 'node:assert';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * The SARIF 2.1.0 JSON schema (OASIS, as Microsoft's SARIF SDK ships it in @microsoft/sarif-multitool's
 * platform package), read from node_modules: never from the network at test time.
 */
let validator: ValidateFunction | undefined;
function sarifValidator(): ValidateFunction {
  if (validator) return validator;
  const candidates = ['linux', 'darwin', 'win32'].map(
    (p) => `@microsoft/sarif-multitool-${p}/sarif-2.1.0.json`,
  );
  let schema: object | undefined;
  for (const c of candidates) {
    try {
      schema = require(c) as object;
      break;
    } catch {
      // the platform package of another OS is not installed
    }
  }
  if (!schema)
    throw new Error(
      `the SARIF 2.1.0 schema is not installed (npm ci installs one of ${candidates.join(', ')})`,
    );
  assert.match((schema as { title?: string }).title ?? '', /SARIF\) Version 2\.1\.0 JSON Schema/);
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  validator = ajv.compile(schema);
  return validator;
}

/** Parses and validates a SARIF log against the 2.1.0 schema; returns it. */
export function assertValidSarif(text: string): SarifLog {
  const log = JSON.parse(text) as SarifLog;
  const validate = sarifValidator();
  assert.ok(validate(log), `SARIF 2.1.0 schema: ${JSON.stringify(validate.errors, null, 2)}`);
  return log;
}

export interface SarifLog {
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string; help: { text: string } }[] } };
    invocations: { exitCode: number }[];
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: {
        physicalLocation: { artifactLocation: { uri: string } };
        logicalLocations: { fullyQualifiedName: string }[];
      }[];
      suppressions?: { kind: string; justification: string }[];
    }[];
  }[];
}

export interface JunitCase {
  name: string;
  failure?: { type: string; message: string; '#text'?: string };
  error?: { type: string; message: string };
  skipped?: { message: string };
  'system-out'?: string;
}

/** Well-formed XML with the JUnit shape (testsuites > testsuite > testcase); returns the cases. */
export function parseJunit(text: string): { suite: Record<string, string>; cases: JunitCase[] } {
  const valid = XMLValidator.validate(text);
  assert.equal(valid, true, `well-formed XML: ${JSON.stringify(valid)}`);
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => name === 'testcase',
  }).parse(text) as { testsuites: { testsuite: Record<string, string> & { testcase?: JunitCase[] } } };
  const suite = doc.testsuites.testsuite;
  const cases = suite.testcase ?? [];
  assert.equal(Number(suite['tests']), cases.length);
  assert.equal(Number(suite['failures']), cases.filter((c) => c.failure).length);
  assert.equal(Number(suite['errors']), cases.filter((c) => c.error).length);
  assert.equal(Number(suite['skipped']), cases.filter((c) => c.skipped !== undefined).length);
  return { suite, cases };
}
