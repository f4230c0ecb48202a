import { strict as assert } from 'node:assert';
import { processAlive, startRegistry, type RunningRegistry } from './registry';

describe('test bed: startRegistry', () => {
  let reg: RunningRegistry | undefined;
  afterEach(async () => {
    await reg?.stop();
    reg = undefined;
  });

  it('serves the distribution API on loopback and is gone after stop()', async () => {
    reg = await startRegistry();
    const res = await fetch(`${reg.url}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    const pid = reg.process.pid;
    assert.ok(pid);
    await reg.stop();
    assert.equal(processAlive(pid), false, 'registry process still running after stop()');
    reg = undefined;
  });

  it('with Basic auth, rejects a wrong credential and accepts the right one', async () => {
    reg = await startRegistry({ auth: { kind: 'basic', username: 'alice', password: 's3cret' } });
    const anon = await fetch(`${reg.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    const basic = (u: string, p: string): string => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
    const wrong = await fetch(`${reg.url}/v2/`, { headers: { authorization: basic('alice', 'wrong') } });
    assert.equal(wrong.status, 401);
    const right = await fetch(`${reg.url}/v2/`, { headers: { authorization: basic('alice', 's3cret') } });
    assert.equal(right.status, 200);
  });
});
