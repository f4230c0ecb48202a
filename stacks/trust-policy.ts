import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseTrustPolicy, type ResolvedTrustPolicy } from '../policy-pack/supply-chain/trust-policy';
import { StackError } from './errors';

/**
 * The trust policy the pack enforces, read from the pack's own config file (`trusted-images.trustPolicy`),
 * so the Kyverno admission policy is rendered from exactly the document the pack checks at deploy time.
 */
export function trustPolicyFromPackConfig(configFile: string): ResolvedTrustPolicy {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<
    string,
    { trustPolicy?: unknown } | string
  >;
  const entry = config['trusted-images'];
  const document = typeof entry === 'object' ? entry.trustPolicy : undefined;
  if (!document || typeof document !== 'object') {
    throw new StackError(
      'TRUST_POLICY_MISSING',
      `${configFile} holds no trust policy under trusted-images.trustPolicy: put the trust policy the pack enforces there`,
    );
  }
  return parseTrustPolicy(document, {
    baseDir: path.dirname(configFile),
    source: `${configFile} (trusted-images.trustPolicy)`,
  });
}
