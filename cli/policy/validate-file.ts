import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { reconcileConfig, startAnalyzer } from '../analyzer';
import { isAnalyzerError } from '../analyzer/errors';
import type { PackConfig } from '../analyzer/types';
import { ensurePackBuilt } from '../preview/pack-build';
import { isPolicyError } from '../../policy-pack/supply-chain/policy-error';
import { loadTrustPolicyFile, parseTrustPolicy } from '../../policy-pack/supply-chain/trust-policy';
import type { TrustPolicy } from '../../policy-pack/supply-chain/types';

/**
 * `trustops policy validate FILE`: what the file is (a trust policy, or a policy pack config) and every
 * problem in it, coded and located. A pack config is checked exactly as the pack's Configure is (the
 * pack is started and its own schemas are used: unknown policies and keys refused with their path), and
 * each trust policy inside it as `trustops verify` would load it.
 */
export interface ValidationProblem {
  code: string;
  /** JSON pointer in the file (`/trusted-images/trustPolicy/images/0`). */
  path: string;
  message: string;
}

export interface FileValidation {
  file: string;
  kind: 'TrustPolicy' | 'PackConfig' | 'unknown';
  valid: boolean;
  /** For people: `a trust policy (8 signers, 4 rules, 1 exemption)`. */
  summary: string;
  problems: ValidationProblem[];
  notes: string[];
}

export async function validateFile(file: string, packDir: string): Promise<FileValidation> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    return invalid(
      abs,
      'unknown',
      'POLICY_UNREADABLE',
      `cannot read ${abs} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return invalid(abs, 'unknown', 'POLICY_SYNTAX', (e as Error).message);
  }
  if (!isObject(doc)) {
    return invalid(
      abs,
      'unknown',
      'POLICY_SCHEMA',
      'expected a trust policy (kind: TrustPolicy) or a policy pack config (a JSON object keyed by policy name)',
    );
  }
  if (looksLikeTrustPolicy(doc)) return validateTrustPolicy(abs);
  return validatePackConfig(abs, doc, packDir);
}

function looksLikeTrustPolicy(doc: Record<string, unknown>): boolean {
  return ['apiVersion', 'kind', 'signers', 'images'].some((k) => k in doc);
}

function describe(p: TrustPolicy): string {
  const n = (count: number, what: string): string => `${count} ${what}${count === 1 ? '' : 's'}`;
  return `${n(Object.keys(p.signers).length, 'signer')}, ${n(p.images.length, 'rule')}, ${n((p.exemptions ?? []).length, 'exemption')}`;
}

function validateTrustPolicy(file: string): FileValidation {
  try {
    const policy = loadTrustPolicyFile(file);
    return {
      file,
      kind: 'TrustPolicy',
      valid: true,
      summary: `a trust policy (${describe(policy)})`,
      problems: [],
      notes: [],
    };
  } catch (e) {
    if (!isPolicyError(e)) throw e;
    return {
      file,
      kind: 'TrustPolicy',
      valid: false,
      summary: 'a trust policy (trustops.dev/v1alpha1 TrustPolicy)',
      problems: e.problems.map((p) => ({ code: p.code, path: p.path || '/', message: p.message })),
      notes: [],
    };
  }
}

async function validatePackConfig(
  file: string,
  doc: Record<string, unknown>,
  packDir: string,
): Promise<FileValidation> {
  const problems: ValidationProblem[] = [];
  const notes: string[] = [];
  const policiesWithTrust = new Set<string>();
  const copies: string[] = [];
  for (const [name, entry] of Object.entries(doc)) {
    if (!isObject(entry) || entry['trustPolicy'] === undefined) continue;
    policiesWithTrust.add(name);
    const baseDir =
      typeof entry['trustPolicyBaseDir'] === 'string' ? entry['trustPolicyBaseDir'] : path.dirname(file);
    const document = entry['trustPolicy'];
    copies.push(JSON.stringify(document));
    try {
      const policy = parseTrustPolicy(document as object, {
        baseDir,
        source: `${file} (${name}.trustPolicy)`,
      });
      notes.push(`${name}: a trust policy (${describe(policy)})`);
      const files = Object.entries(policy.signers).filter(([, s]) => s.key?.publicKeyFile !== undefined);
      if (files.length > 0 && entry['trustPolicyBaseDir'] === undefined) {
        notes.push(
          `${name}: ${files.map(([n]) => n).join(', ')} read publicKeyFile, which a published pack resolves against its own folder; inline the keys (trustops pack-config)`,
        );
      }
    } catch (e) {
      if (!isPolicyError(e)) throw e;
      for (const p of e.problems)
        problems.push({ code: p.code, path: `/${name}/trustPolicy${p.path}`, message: p.message });
    }
  }
  if (copies.length === 2 && copies[0] !== copies[1]) {
    notes.push(
      'trusted-images and images-pinned-by-digest hold different trust policies; the pins would be verified against another policy',
    );
  }
  ensurePackBuilt(packDir, { build: true });
  const session = await startAnalyzer({ packDir });
  let packName = 'the policy pack';
  try {
    packName = `${session.info.name}@${session.info.version}`;
    try {
      reconcileConfig(session.info, doc as PackConfig);
    } catch (e) {
      if (!isAnalyzerError(e, 'INVALID_CONFIG')) throw e;
      for (const p of e.problems) {
        const sep = p.indexOf(': ');
        const where = `/${sep < 0 ? p : p.slice(0, sep)}`;
        // a trust policy's own problems are reported above, coded, from its loader
        const [, policyName = ''] = where.split('/');
        if (policiesWithTrust.has(policyName) && where.startsWith(`/${policyName}/trustPolicy`)) {
          if (problems.some((q) => q.path.startsWith(`/${policyName}/trustPolicy`))) continue;
        }
        problems.push({
          code: 'CONFIG_INVALID',
          path: where,
          message: sep < 0 ? 'invalid' : p.slice(sep + 2),
        });
      }
    }
  } finally {
    await session.close();
  }
  return {
    file,
    kind: 'PackConfig',
    valid: problems.length === 0,
    summary: `a policy pack config for ${packName}`,
    problems,
    notes,
  };
}

function invalid(file: string, kind: FileValidation['kind'], code: string, message: string): FileValidation {
  return {
    file,
    kind,
    valid: false,
    summary: kind === 'unknown' ? 'not a trust policy or a pack config' : kind,
    problems: [{ code, path: '/', message }],
    notes: [],
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
