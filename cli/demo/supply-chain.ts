import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { attachBundleReferrer, imageSubject, inTotoStatement } from '../oci/attach';
import { buildImage } from '../oci/image';
import { OciLayoutWriter } from '../oci/layout';
import { createKeyPair, signBlobWithKey, signDsseWithKey, type KeyPair } from '../oci/sign-key';
import { pushImage } from '../oci/target';
import type { Requirement, TrustPolicy } from '../../policy-pack/supply-chain/types';
import {
  SLSA_PROVENANCE_V1,
  SLSA_VSA_V1,
  SPDX_PREDICATE,
  slsaProvenance,
  spdxSbom,
  verificationSummary,
} from './evidence';

/** The registry host the demo images live under; `--registry-mirror` maps it to the OCI layout. */
export const DEMO_HOST = 'registry.demo.trustops.dev';
/** Bump when the demo's content changes, so an old cache is rebuilt rather than reused. */
const DEMO_VERSION = 1;
const IN_TOTO = 'application/vnd.in-toto+json';

type DemoSigner = 'release' | 'rebuilder-a' | 'rebuilder-b' | 'stranger';
/** Keys the demo trust policy trusts; `stranger` signs but is not in the policy. */
const TRUSTED_SIGNERS = ['release', 'rebuilder-a', 'rebuilder-b'] as const;

export interface DemoImageSpec {
  /** Workload and repository name (`acme/<name>`). */
  name: string;
  /** What is special about it, for the output. */
  story: string;
  signature?: DemoSigner;
  sbom: boolean;
  provenance: boolean;
  rebuilders: DemoSigner[];
  confidential: boolean;
  /** The verdict the demo is meant to show: allowed, or blocked on this requirement. */
  intended: { allowed: true } | { allowed: false; requirement: Requirement };
}

export const DEMO_IMAGES: readonly DemoImageSpec[] = [
  {
    name: 'payments-api',
    story: 'fully compliant: signed, SBOM, provenance, two independent rebuilds',
    signature: 'release',
    sbom: true,
    provenance: true,
    rebuilders: ['rebuilder-a', 'rebuilder-b'],
    confidential: true,
    intended: { allowed: true },
  },
  {
    name: 'checkout',
    story: 'unsigned',
    sbom: true,
    provenance: true,
    rebuilders: ['rebuilder-a', 'rebuilder-b'],
    confidential: false,
    intended: { allowed: false, requirement: 'signature' },
  },
  {
    name: 'inventory',
    story: 'no SBOM',
    signature: 'release',
    sbom: false,
    provenance: true,
    rebuilders: ['rebuilder-a', 'rebuilder-b'],
    confidential: false,
    intended: { allowed: false, requirement: 'sbom' },
  },
  {
    name: 'search',
    story: 'one independent rebuild where the policy needs two',
    signature: 'release',
    sbom: true,
    provenance: true,
    rebuilders: ['rebuilder-a'],
    confidential: false,
    intended: { allowed: false, requirement: 'reproducible' },
  },
  {
    name: 'billing',
    story: 'signed by a key the trust policy does not trust',
    signature: 'stranger',
    sbom: true,
    provenance: true,
    rebuilders: ['rebuilder-a', 'rebuilder-b'],
    confidential: false,
    intended: { allowed: false, requirement: 'signature' },
  },
];

export interface DemoSupplyChain {
  dir: string;
  /** The OCI image-layout directory holding every demo image and its evidence. */
  layoutDir: string;
  host: string;
  /** Image name -> reference pinned by digest. */
  images: Record<string, string>;
  trustPolicyFile: string;
  packConfigFile: string;
  /** True when this call created the supply chain (first run). */
  created: boolean;
}

/** Where the demo lives: TRUSTOPS_DEMO_DIR, else the user's cache directory. */
export function defaultDemoDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['TRUSTOPS_DEMO_DIR']) return path.resolve(env['TRUSTOPS_DEMO_DIR']);
  const cache = env['XDG_CACHE_HOME'] || path.join(env['HOME'] || os.homedir(), '.cache');
  return path.join(cache, 'trustops', `demo-v${DEMO_VERSION}`);
}

/**
 * Returns the demo supply chain, creating it on first run: fresh keys, five images in an OCI layout
 * with the evidence each story calls for (signed by the real Sigstore libraries, key-based, offline),
 * the trust policy and the pack config. Built in a temporary folder and renamed into place, so an
 * interrupted first run leaves nothing half-made.
 */
export async function ensureDemoSupplyChain(
  dir: string,
  log: (line: string) => void = () => undefined,
): Promise<DemoSupplyChain> {
  const manifestFile = path.join(dir, 'demo.json');
  if (existsSync(manifestFile)) {
    const stored = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
      version: number;
      images: Record<string, string>;
    };
    if (stored.version === DEMO_VERSION) return describe(dir, stored.images, false);
  }
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.join(staging, 'keys'), { recursive: true });
  log(`creating the demo supply chain in ${dir} (first run)`);

  const keys = {
    release: createKeyPair(),
    'rebuilder-a': createKeyPair(),
    'rebuilder-b': createKeyPair(),
    stranger: createKeyPair(),
  } satisfies Record<DemoSigner, KeyPair>;
  // Only public keys are kept: the demo never signs again, and a cache should hold no private key.
  for (const name of TRUSTED_SIGNERS)
    writeFileSync(path.join(staging, 'keys', `${name}.pub`), keys[name].publicKeyPem);

  const writer = new OciLayoutWriter(path.join(staging, 'layout'));
  const images: Record<string, string> = {};
  for (const spec of DEMO_IMAGES) {
    log(`  building and signing ${DEMO_HOST}/acme/${spec.name} (${spec.story})`);
    images[spec.name] = await publish(writer, spec, keys);
  }

  const policy = demoTrustPolicy();
  writeFileSync(path.join(staging, 'trust-policy.yaml'), toYaml(policy));
  writeFileSync(
    path.join(staging, 'policy-pack-config.json'),
    JSON.stringify(demoPackConfig(policy, keys), null, 2) + '\n',
  );
  writeFileSync(
    path.join(staging, 'demo.json'),
    JSON.stringify({ version: DEMO_VERSION, images }, null, 2) + '\n',
  );

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  renameSync(staging, dir);
  return describe(dir, images, true);
}

function describe(dir: string, images: Record<string, string>, created: boolean): DemoSupplyChain {
  return {
    dir,
    layoutDir: path.join(dir, 'layout'),
    host: DEMO_HOST,
    images,
    trustPolicyFile: path.join(dir, 'trust-policy.yaml'),
    packConfigFile: path.join(dir, 'policy-pack-config.json'),
    created,
  };
}

/** Pushes one image (content derived from its name) and attaches its evidence as Sigstore-bundle referrers. */
async function publish(
  writer: OciLayoutWriter,
  spec: DemoImageSpec,
  keys: Record<DemoSigner, KeyPair>,
): Promise<string> {
  const repo = `acme/${spec.name}`;
  const name = `${DEMO_HOST}/${repo}`;
  const image = buildImage({ seed: `trustops-demo/${spec.name}` });
  const subject = await pushImage(writer, repo, image);
  const attach = async (bundle: unknown): Promise<void> => {
    await attachBundleReferrer(writer, repo, subject, Buffer.from(JSON.stringify(bundle)));
  };
  const attest = async (predicateType: string, predicate: unknown, signer: DemoSigner): Promise<void> => {
    const statement = inTotoStatement({
      subjects: [imageSubject(name, image.digest)],
      predicateType,
      predicate,
    });
    await attach(await signDsseWithKey(statement, IN_TOTO, keys[signer]));
  };
  // A message signature over the manifest bytes signs the image digest itself.
  if (spec.signature) await attach(await signBlobWithKey(image.manifest, keys[spec.signature]));
  if (spec.sbom) await attest(SPDX_PREDICATE, spdxSbom(spec.name), 'release');
  if (spec.provenance)
    await attest(
      SLSA_PROVENANCE_V1,
      slsaProvenance('https://github.com/actions/runner/github-hosted'),
      'release',
    );
  for (const rebuilder of spec.rebuilders) {
    if (rebuilder === 'rebuilder-a') {
      await attest(SLSA_PROVENANCE_V1, slsaProvenance('https://rebuilder-a.demo.trustops.dev'), rebuilder);
    } else {
      await attest(
        SLSA_VSA_V1,
        verificationSummary('https://rebuilder-b.demo.trustops.dev', `oci://${name}`),
        rebuilder,
      );
    }
  }
  return `${name}@${image.digest}`;
}

/**
 * The demo's trust policy. Its signers are keys and the demo runs offline with no transparency log,
 * so each key signer opts out of transparency-log evidence (`requireTransparencyLog: false`): a
 * production policy should keep the default (required).
 */
function demoTrustPolicy(): TrustPolicy {
  const keySigner = (file: string): TrustPolicy['signers'][string] => ({
    key: { publicKeyFile: `./keys/${file}.pub`, requireTransparencyLog: false },
  });
  return {
    apiVersion: 'trustops.dev/v1alpha1',
    kind: 'TrustPolicy',
    signers: {
      release: keySigner('release'),
      'rebuilder-a': keySigner('rebuilder-a'),
      'rebuilder-b': keySigner('rebuilder-b'),
    },
    images: [
      {
        match: [`${DEMO_HOST}/acme/**`],
        signature: { signers: ['release'] },
        sbom: { signers: ['release'], formats: ['spdx', 'cyclonedx'] },
        provenance: { signers: ['release'] },
        reproducible: { rebuilders: ['rebuilder-a', 'rebuilder-b'], threshold: 2 },
      },
    ],
  };
}

/** The pack config: the same policy with keys inline (the pack resolves no files), every policy mandatory. */
function demoPackConfig(policy: TrustPolicy, keys: Record<DemoSigner, KeyPair>): Record<string, unknown> {
  const inline: TrustPolicy = structuredClone(policy);
  for (const [name, signer] of Object.entries(inline.signers)) {
    if (signer.key)
      signer.key = { publicKey: keys[name as DemoSigner].publicKeyPem, requireTransparencyLog: false };
  }
  return {
    'trusted-images': { enforcementLevel: 'mandatory', trustPolicy: inline },
    'images-pinned-by-digest': 'mandatory',
    'allowed-registries': { enforcementLevel: 'mandatory', allowedPrefixes: [`${DEMO_HOST}/acme`] },
  };
}
