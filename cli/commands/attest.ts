import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRegistryClient } from '../../policy-pack/registry/client';
import { defaultCredentials } from '../../policy-pack/registry/credentials';
import { RegistryError } from '../../policy-pack/registry/errors';
import {
  DOCKER_HUB,
  isLoopbackHost,
  parseReference,
  registryIdentity,
} from '../../policy-pack/registry/reference';
import type { CredentialSource, ImageReference, RegistryClient } from '../../policy-pack/registry/types';
import {
  embeddedPublicGoodRoot,
  loadTrustedRoot,
  SignatureError,
  type TrustedRootMaterial,
} from '../../policy-pack/supply-chain/sigstore';
import { collect, parseMirrors } from '../command-options';
import { EXIT, UsageError } from '../exit-codes';
import {
  AttestFailure,
  publishEvidence,
  selfCheck,
  signPlan,
  type AttestFormat,
  type AttestPlan,
  type PublishedPiece,
  type SelfSigner,
} from '../oci/attest';
import {
  identityProvider,
  issuingChainPem,
  keylessBundleSigner,
  PUBLIC_GOOD_FULCIO,
  PUBLIC_GOOD_REKOR,
  servicesOf,
} from '../oci/keyless';
import { OciLayoutWriter } from '../oci/layout';
import {
  PredicateError,
  predicateFromFile,
  provenanceFromFile,
  sbomFromFile,
  type Predicate,
} from '../oci/predicates';
import { loadSigningKey, SigningKeyError } from '../oci/private-key';
import type { BundleSigner } from '../oci/publish';
import { RegistryPusher, type RegistryCredentials } from '../oci/push';
import { parseRebuildSource, RebuildSourceError, rebuildVsa, type RebuildSource } from '../oci/rebuild';
import { keyBundleSigner, type KeyPair } from '../oci/sign-key';
import type { OciTarget } from '../oci/target';

/**
 * `trustops attest IMAGE`: for producers and rebuilders, cosign-compatible. Signs the image digest
 * (`--sign`), attests an SBOM, SLSA provenance or any cosign `--type` predicate, and, for a rebuilder,
 * signs a SLSA VSA naming the digest and the source only when the rebuilt digest equals the published
 * one. Key-based (`--key`, a PEM or cosign key file) or keyless (Fulcio + Rekor, identity token).
 * Everything is signed and checked against the trusted root before anything is pushed.
 *
 * Exit 0 published; 1 refused (the rebuilt digest differs: nothing signed or pushed); 2 usage or
 * configuration error, or a registry/Sigstore service failure (nothing pushed unless the message says so).
 */

export interface AttestCommandOptions {
  sign?: boolean;
  sbom?: string;
  provenance?: string;
  predicate?: string;
  type?: string;
  rebuiltDigest?: string;
  rebuiltImage?: string;
  source?: string;
  verifierId?: string;
  verifiedLevel: string[];
  key?: string;
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  trustedRoot?: string;
  /** commander's `--no-tlog-upload`: false when given. */
  tlogUpload: boolean;
  format: 'cosign' | 'referrer' | 'both';
  insecureRegistry: string[];
  registryMirror: string[];
  json?: boolean;
}

/** The rebuilt digest differs from the published one: refused, exit 1, nothing signed or pushed. */
export class AttestRefused extends Error {
  readonly code = 'REBUILD_DIGEST_MISMATCH';
  constructor(
    message: string,
    readonly published: string,
    readonly rebuilt: string,
  ) {
    super(message);
    this.name = 'AttestRefused';
  }
}

export interface AttestResult {
  image: string;
  digest: string;
  signer: string;
  published: PublishedPiece[];
  rebuild?: { rebuiltDigest: string; source: RebuildSource };
}

export interface AttestDependencies {
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Registry credentials (default: environment, then Docker's config.json, as `verify`). */
  credentials?: CredentialSource;
}

export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command('attest')
    .description(
      'Sign an image and attach signed attestations (SBOM, provenance, rebuild VSA) in cosign-compatible form.',
    )
    .argument('<IMAGE>', 'image reference (a tag is resolved once; the digest is what gets signed)')
    .option('--sign', 'sign the image digest (cosign sign)')
    .option('--sbom <file>', 'SPDX JSON or CycloneDX JSON SBOM to attest (cosign --type spdxjson|cyclonedx)')
    .option(
      '--provenance <file>',
      'SLSA v1 or v0.2 provenance predicate to attest (slsaprovenance1|slsaprovenance)',
    )
    .option('--predicate <file>', 'any predicate to attest, with --type (as cosign attest)')
    .option('--type <type>', 'predicate type of --predicate: a cosign --type name or a URI')
    .option('--rebuilt-digest <digest>', 'rebuilder: the digest your rebuild produced')
    .option('--rebuilt-image <ref>', 'rebuilder: your rebuilt image, whose digest is compared')
    .option(
      '--source <uri@commit>',
      'rebuilder: the source you rebuilt from, e.g. git+https://github.com/acme/app@<commit>',
    )
    .option('--verifier-id <uri>', 'rebuilder: your identity as the VSA verifier.id')
    .option('--verified-level <level>', 'rebuilder: a SLSA level the VSA states (repeatable)', collect, [])
    .option(
      '--key <file>',
      'private key (PEM, or a cosign key file opened with COSIGN_PASSWORD); else keyless',
    )
    .option(
      '--identity-token <token>',
      'keyless: OIDC token for Fulcio (default SIGSTORE_ID_TOKEN, or GitHub Actions)',
    )
    .option(
      '--fulcio-url <url>',
      'keyless: Fulcio (default: from --trusted-root, else the public-good instance)',
    )
    .option('--rekor-url <url>', 'Rekor (default: from --trusted-root, else the public-good instance)')
    .option('--tsa-url <url>', 'also timestamp every signature with this RFC 3161 TSA')
    .option(
      '--trusted-root <file>',
      'trusted_root.json the signatures are checked against (default: public-good)',
    )
    .option(
      '--no-tlog-upload',
      'key-based only: no Rekor entry (a policy must then opt out of requireTransparencyLog)',
    )
    .addOption(
      new Option('--format <format>', 'where signatures go: cosign tag scheme, OCI 1.1 referrers, or both')
        .choices(['cosign', 'referrer', 'both'])
        .default('cosign'),
    )
    .option('--insecure-registry <host>', 'registry host reachable over plain HTTP (repeatable)', collect, [])
    .option(
      '--registry-mirror <host=store>',
      'serve HOST from oci-layout:DIR (read and written) or https://mirror (read only) (repeatable)',
      collect,
      [],
    )
    .option('--json', 'print what was published as JSON')
    .action(async (image: string, opts: AttestCommandOptions) => {
      setExit(await runAttest(image, opts));
    });
}

/** The action: prints the result, or a refusal (exit 1) or failure (exit 2); usage errors propagate. */
export async function runAttest(
  image: string,
  opts: AttestCommandOptions,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
  deps: AttestDependencies = {},
): Promise<number> {
  try {
    const result = await attestCommand(image, opts, deps);
    out(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderResult(result));
    return EXIT.OK;
  } catch (e) {
    if (e instanceof AttestRefused) {
      err(`trustops attest: REFUSED [${e.code}] ${e.message}\n`);
      return EXIT.BLOCKED;
    }
    if (e instanceof AttestFailure) {
      err(`trustops attest: FAILED [${e.code}] ${e.message}\n`);
      // A registry or Sigstore service that did not answer is worth a retry (3, as for verify); a self-check
      // that fails against the given trusted root is a configuration error (2).
      return e.code === 'SELF_CHECK_FAILED' ? EXIT.USAGE : EXIT.UNVERIFIED;
    }
    throw e;
  }
}

export function renderResult(r: AttestResult): string {
  const lines = [`ATTESTED ${r.image}`, `  digest: ${r.digest}`, `  signer: ${r.signer}`];
  if (r.rebuild) {
    lines.push(
      `  rebuild: ${r.rebuild.rebuiltDigest} from ${r.rebuild.source.uri}@${r.rebuild.source.commit}`,
    );
  }
  for (const p of r.published) {
    const what = p.kind === 'signature' ? 'signature' : `${p.label} (${p.predicateType})`;
    lines.push(`  pushed  ${what}: ${p.format} ${p.location}`);
  }
  return `${lines.join('\n')}\n`;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UsageError(`cannot read ${what} ${file} (${code})`, 'FILE_UNREADABLE');
  }
}

function usageFrom<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PredicateError || e instanceof SigningKeyError || e instanceof RebuildSourceError) {
      throw new UsageError(e.message, e.code);
    }
    if (e instanceof RegistryError) throw new UsageError(e.message, e.code);
    if (e instanceof SignatureError) throw new UsageError(e.message, e.code);
    throw e;
  }
}

function sha256Digest(value: string, flag: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(value)) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a sha256:<64 hex> digest`, 'BAD_DIGEST');
  }
  return value;
}

function httpUrl(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a URL`, 'BAD_URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not an http(s) URL`, 'BAD_URL');
  }
  return value.replace(/\/+$/, '');
}

interface Rebuild {
  source: RebuildSource;
  verifierId: string;
  rebuiltDigest?: string;
  rebuiltImage?: string;
}

/** Everything checked before the network is touched. */
interface Prepared {
  reference: ImageReference;
  predicates: Predicate[];
  rebuild?: Rebuild;
  formats: AttestFormat[];
  key?: KeyPair;
  trustedRoot: TrustedRootMaterial;
  mirrors: Record<string, string>;
}

function prepare(image: string, opts: AttestCommandOptions, env: NodeJS.ProcessEnv, now: Date): Prepared {
  const reference = usageFrom(() => parseReference(image));
  const predicates: Predicate[] = [];
  if (opts.sbom !== undefined) {
    const file = opts.sbom;
    predicates.push(usageFrom(() => sbomFromFile(readText(file, '--sbom'), file)));
  }
  if (opts.provenance !== undefined) {
    const file = opts.provenance;
    predicates.push(usageFrom(() => provenanceFromFile(readText(file, '--provenance'), file)));
  }
  if ((opts.predicate === undefined) !== (opts.type === undefined)) {
    throw new UsageError(
      '--predicate and --type go together (as in cosign attest)',
      'PREDICATE_WITHOUT_TYPE',
    );
  }
  if (opts.predicate !== undefined && opts.type !== undefined) {
    const file = opts.predicate;
    const type = opts.type;
    predicates.push(usageFrom(() => predicateFromFile(type, readText(file, '--predicate'), file, now)));
  }

  let rebuild: Rebuild | undefined;
  const rebuilding =
    opts.rebuiltDigest !== undefined ||
    opts.rebuiltImage !== undefined ||
    opts.source !== undefined ||
    opts.verifierId !== undefined;
  if (rebuilding) {
    if ((opts.rebuiltDigest === undefined) === (opts.rebuiltImage === undefined)) {
      throw new UsageError(
        'a rebuilder gives exactly one of --rebuilt-digest and --rebuilt-image',
        'REBUILD_OPTIONS',
      );
    }
    if (opts.source === undefined || opts.verifierId === undefined) {
      throw new UsageError(
        'a rebuilder gives --source URI@COMMIT and --verifier-id URI too',
        'REBUILD_OPTIONS',
      );
    }
    const source = opts.source;
    const verifierId = httpUrl(opts.verifierId, '--verifier-id') ?? '';
    rebuild = {
      source: usageFrom(() => parseRebuildSource(source)),
      verifierId,
      ...(opts.rebuiltDigest !== undefined
        ? { rebuiltDigest: sha256Digest(opts.rebuiltDigest, '--rebuilt-digest') }
        : {}),
      ...(opts.rebuiltImage !== undefined ? { rebuiltImage: opts.rebuiltImage } : {}),
    };
    if (opts.rebuiltImage !== undefined) {
      const rebuiltImage = opts.rebuiltImage;
      usageFrom(() => parseReference(rebuiltImage));
    }
  } else if (opts.verifiedLevel.length > 0) {
    throw new UsageError('--verified-level is for a rebuilder (with --rebuilt-digest)', 'REBUILD_OPTIONS');
  }
  if (!opts.sign && predicates.length === 0 && !rebuild) {
    throw new UsageError(
      'nothing to do: give --sign, --sbom, --provenance, --predicate/--type or a rebuild (--rebuilt-digest)',
      'NOTHING_TO_ATTEST',
    );
  }

  let key: KeyPair | undefined;
  if (opts.key !== undefined) {
    const file = opts.key;
    key = usageFrom(() => loadSigningKey(readText(file, '--key'), env['COSIGN_PASSWORD'], file));
    if (opts.identityToken !== undefined || opts.fulcioUrl !== undefined) {
      throw new UsageError(
        '--key signs with a key: --identity-token and --fulcio-url are for keyless',
        'SIGNING_OPTIONS',
      );
    }
  } else if (!opts.tlogUpload) {
    throw new UsageError(
      '--no-tlog-upload is for key-based signing: keyless signatures are always logged',
      'SIGNING_OPTIONS',
    );
  }

  const trustedRoot =
    opts.trustedRoot === undefined
      ? embeddedPublicGoodRoot()
      : usageFrom(() => {
          const file = opts.trustedRoot as string;
          let json: unknown;
          try {
            json = JSON.parse(readText(file, '--trusted-root'));
          } catch (e) {
            if (e instanceof UsageError) throw e;
            throw new UsageError(`--trusted-root ${file} is not JSON`, 'TRUST_ROOT_INVALID');
          }
          return loadTrustedRoot(json, path.resolve(file));
        });

  const formats: AttestFormat[] =
    opts.format === 'both' ? ['cosign', 'referrer'] : opts.format === 'referrer' ? ['referrer'] : ['cosign'];
  const mirrors = parseMirrors(opts.registryMirror);
  return {
    reference,
    predicates,
    ...(rebuild ? { rebuild } : {}),
    formats,
    ...(key ? { key } : {}),
    trustedRoot,
    mirrors,
  };
}

function signerFor(
  p: Prepared,
  opts: AttestCommandOptions,
  env: NodeJS.ProcessEnv,
): { signer: BundleSigner; self: SelfSigner; chainFor?: (pem: string) => string | undefined } {
  const fromRoot = opts.trustedRoot !== undefined ? servicesOf(p.trustedRoot) : {};
  const rekorUrl = httpUrl(opts.rekorUrl, '--rekor-url') ?? fromRoot.rekorUrl ?? PUBLIC_GOOD_REKOR;
  const tsaUrl = httpUrl(opts.tsaUrl, '--tsa-url');
  if (p.key) {
    return {
      signer: keyBundleSigner(p.key, {
        ...(opts.tlogUpload ? { rekorUrl } : {}),
        ...(tsaUrl ? { tsaUrl } : {}),
      }),
      self: { kind: 'key', publicKeyPem: p.key.publicKeyPem, requireTransparencyLog: opts.tlogUpload },
    };
  }
  const identity = identityProvider(opts.identityToken, env);
  if (!identity) {
    throw new UsageError(
      'keyless signing needs an OIDC identity token: --identity-token, SIGSTORE_ID_TOKEN, or GitHub Actions with id-token: write (or sign with --key)',
      'NO_IDENTITY_TOKEN',
    );
  }
  const fulcioUrl = httpUrl(opts.fulcioUrl, '--fulcio-url') ?? fromRoot.fulcioUrl ?? PUBLIC_GOOD_FULCIO;
  return {
    signer: keylessBundleSigner({ identity, fulcioUrl, rekorUrl, ...(tsaUrl ? { tsaUrl } : {}) }),
    self: { kind: 'keyless' },
    chainFor: (pem) => issuingChainPem(p.trustedRoot, pem),
  };
}

/** `http://` for loopback and `--insecure-registry` hosts, `https://` otherwise (as `verify` reads). */
export function registryBaseUrl(registry: string, insecure: readonly string[]): string {
  if (registry === DOCKER_HUB) return 'https://registry-1.docker.io';
  const hostname = registry.startsWith('[')
    ? registry.slice(0, registry.indexOf(']') + 1)
    : registry.split(':')[0];
  const plain =
    isLoopbackHost(registry) ||
    insecure.some((h) => h === registry || registryIdentity(h) === registry || h === hostname);
  return `${plain ? 'http' : 'https'}://${registry}`;
}

async function pusherCredentials(
  source: CredentialSource,
  registry: string,
): Promise<RegistryCredentials | undefined> {
  const found = await source.lookup(registry);
  if (!found) return undefined;
  return found.kind === 'basic'
    ? { username: found.username, password: found.password }
    : { identityToken: found.token };
}

async function targetFor(
  reference: ImageReference,
  p: Prepared,
  opts: AttestCommandOptions,
  credentials: CredentialSource,
): Promise<OciTarget> {
  const mirror = Object.entries(p.mirrors).find(
    ([host]) => (registryIdentity(host) ?? host) === reference.registry,
  )?.[1];
  if (mirror?.startsWith('oci-layout:')) return new OciLayoutWriter(mirror.slice('oci-layout:'.length));
  const creds = await pusherCredentials(credentials, reference.registry);
  return new RegistryPusher(registryBaseUrl(reference.registry, opts.insecureRegistry), creds);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function resolveImage(client: RegistryClient, ref: string | ImageReference, what: string) {
  try {
    return await client.resolve(ref);
  } catch (e) {
    if (e instanceof RegistryError) {
      throw new AttestFailure('REGISTRY_ERROR', `cannot read ${what}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/**
 * Runs the command and returns what was published. Throws UsageError (exit 2) before anything is signed
 * on bad input, AttestRefused (exit 1) when a rebuild does not match, AttestFailure (exit 2) when a
 * service fails.
 */
export async function attestCommand(
  image: string,
  opts: AttestCommandOptions,
  deps: AttestDependencies = {},
): Promise<AttestResult> {
  const env = deps.env ?? process.env;
  const now = (deps.now ?? (() => new Date()))();
  const p = prepare(image, opts, env, now);
  const { signer, self, chainFor } = signerFor(p, opts, env);
  const client = usageFrom(() =>
    createRegistryClient({
      mirrors: p.mirrors,
      insecureRegistries: opts.insecureRegistry,
      ...(deps.credentials ? { credentials: deps.credentials } : {}),
    }),
  );
  try {
    const resolved = await resolveImage(client, p.reference, image);
    const reference = resolved.reference;
    const name = `${reference.registry}/${reference.repository}`;
    const digest = resolved.digest;

    const predicates = [...p.predicates];
    if (p.rebuild) {
      const rebuilt =
        p.rebuild.rebuiltDigest ??
        (await resolveImage(client, p.rebuild.rebuiltImage as string, '--rebuilt-image')).digest;
      if (rebuilt !== digest) {
        throw new AttestRefused(
          `${name}@${digest}: the rebuild from ${p.rebuild.source.uri}@${p.rebuild.source.commit} produced ${rebuilt}, not the published ${digest}; no reproducibility evidence was signed and nothing was pushed`,
          digest,
          rebuilt,
        );
      }
      predicates.push(
        rebuildVsa({
          verifierId: p.rebuild.verifierId,
          name,
          digest,
          source: p.rebuild.source,
          verifiedLevels: opts.verifiedLevel,
          now,
          version: version(),
        }),
      );
    }

    const plan: AttestPlan = {
      subject: {
        reference,
        name,
        digest,
        descriptor: resolved.manifest.descriptor,
        manifest: resolved.manifest.bytes,
      },
      sign: opts.sign === true,
      predicates,
      formats: p.formats,
      now,
    };
    const evidence = await signPlan(plan, signer, chainFor);
    const checked = selfCheck(plan, evidence, p.trustedRoot, self);
    const target = await targetFor(reference, p, opts, deps.credentials ?? defaultCredentials(env));
    const published = await publishEvidence(target, plan, evidence);
    return {
      image,
      digest,
      signer: checked.identity,
      published,
      ...(p.rebuild ? { rebuild: { rebuiltDigest: digest, source: p.rebuild.source } } : {}),
    };
  } finally {
    client.close();
  }
}
