import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { digestTag } from '../../cli/oci/attach';
import { OciLayoutWriter } from '../../cli/oci/layout';
import { RegistryPusher } from '../../cli/oci/push';
import { createKeyPair } from '../../cli/oci/sign-key';
import { parseJson, rawManifest } from './raw-distribution';
import { startRegistry, type RunningRegistry } from './registry';
import { publishSignedImage } from './signed-image';
import { startSigstoreMock, type SigstoreMock } from './sigstore-mock';
import { EMPTY_TRUSTED_ROOT, verifyBundle } from './sigstore-verify';
import { startTokenServer } from './token-server';

const SBOM = 'https://cyclonedx.org/bom';
const SLSA = 'https://slsa.dev/provenance/v1';

describe('test bed: publishSignedImage', () => {
  let reg: RunningRegistry;
  let mock: SigstoreMock;
  before(async () => {
    [reg, mock] = await Promise.all([startRegistry(), startSigstoreMock()]);
  });
  after(async () => {
    await reg?.stop();
    await mock?.close();
  });

  it('keyless, both formats: .sig, .att and the referrers index hold the signature and every attestation', async () => {
    const signed = await publishSignedImage({
      target: new RegistryPusher(reg.url),
      host: reg.host,
      repo: 'apps/web',
      tag: 'v1',
      mock,
      identity: { email: 'ci@example.com' },
      attestations: [
        { predicateType: SBOM, predicate: { bomFormat: 'CycloneDX', specVersion: '1.5', components: [] } },
        { predicateType: SLSA, predicate: {} },
      ],
    });
    assert.equal(signed.reference, `${reg.host}/apps/web@${signed.image.digest}`);
    const sig = await rawManifest(reg.url, 'apps/web', digestTag(signed.image.digest, '.sig'));
    const att = await rawManifest(reg.url, 'apps/web', digestTag(signed.image.digest, '.att'));
    const refs = await rawManifest(reg.url, 'apps/web', digestTag(signed.image.digest));
    const sigLayers = parseJson<{ layers: { annotations: Record<string, string> }[] }>(sig.bytes).layers;
    assert.equal(sigLayers.length, 1);
    assert.match(sigLayers[0]?.annotations['dev.sigstore.cosign/certificate'] ?? '', /BEGIN CERTIFICATE/);
    assert.match(sigLayers[0]?.annotations['dev.sigstore.cosign/bundle'] ?? '', /SignedEntryTimestamp/);
    assert.equal(parseJson<{ layers: unknown[] }>(att.bytes).layers.length, 2);
    assert.equal(parseJson<{ manifests: unknown[] }>(refs.bytes).manifests.length, 3);
    assert.deepEqual(
      signed.bundles.map((b) => b.predicateType ?? b.kind),
      // one image signature per format (cosign's over the simple-signing payload, the referrer's over the manifest)
      ['signature', 'signature', SBOM, SLSA],
    );
    for (const b of signed.bundles.filter((x) => x.kind === 'attestation')) {
      verifyBundle(b.bundle, { trustedRoot: mock.trustedRoot, timestampThreshold: 0 });
    }
  });

  it('key-based into an OCI layout: bundles verify with the key and carry its hint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-signed-'));
    try {
      const key = createKeyPair();
      const signed = await publishSignedImage({
        target: new OciLayoutWriter(dir),
        host: 'example.com',
        repo: 'apps/api',
        key,
        formats: ['referrer'],
        attestations: [{ predicateType: SLSA, predicate: {} }],
      });
      assert.ok(signed.keyHint);
      const dsse = signed.bundles[1]?.bundle;
      assert.ok(dsse);
      verifyBundle(dsse, {
        trustedRoot: EMPTY_TRUSTED_ROOT,
        keys: { [signed.keyHint]: key.publicKeyPem },
        tlogThreshold: 0,
        ctlogThreshold: 0,
        timestampThreshold: 0,
      });
      const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
        manifests: unknown[];
      };
      // the image (tagged), the referrers index (tagged) and two referrers (untagged)
      assert.equal(index.manifests.length, 4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('test bed: in-process servers are gone after close()', () => {
  const refused = async (url: string): Promise<boolean> => {
    try {
      await fetch(url, { method: 'POST', signal: AbortSignal.timeout(2000) });
      return false;
    } catch {
      return true;
    }
  };

  it('the sigstore mock and the token server stop listening', async () => {
    const mock = await startSigstoreMock();
    const tokens = await startTokenServer({ username: 'u', password: 'p' });
    assert.equal(await refused(`${mock.fulcioUrl}/api/v2/signingCert`), false);
    assert.equal(await refused(tokens.realm), false);
    await mock.close();
    await tokens.close();
    assert.equal(await refused(`${mock.fulcioUrl}/api/v2/signingCert`), true);
    assert.equal(await refused(tokens.realm), true);
  });
});
