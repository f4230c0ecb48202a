import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';

/**
 * The test bed's real OCI registry: Debian's `docker-registry` (distribution 2.8) on a random loopback
 * port with its own temporary storage. Every suite that needs a registry starts one and stops it in
 * teardown; `stop()` waits until the process is gone.
 */

export const REGISTRY_BINARY = process.env.TRUSTOPS_REGISTRY_BIN ?? '/usr/bin/docker-registry';
const INSTALL_COMMAND = 'apt-get update && apt-get install -y docker-registry';

/** Installs Debian's docker-registry when missing and running as root; otherwise stops with the exact command. */
export function ensureRegistryInstalled(): void {
  if (fs.existsSync(REGISTRY_BINARY)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(
      `The tests need Debian's docker-registry at ${REGISTRY_BINARY}. Install it with:\n  sudo sh -c '${INSTALL_COMMAND}'`,
    );
  }
  console.log(`test bed: installing docker-registry (${INSTALL_COMMAND})`);
  const r = spawnSync('sh', ['-c', INSTALL_COMMAND], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0 || !fs.existsSync(REGISTRY_BINARY)) {
    throw new Error(`installing docker-registry failed (exit ${r.status}); run: ${INSTALL_COMMAND}`);
  }
}

export interface BasicAuthOptions {
  kind: 'basic';
  username: string;
  password: string;
}

/** Token auth: the registry trusts JWTs signed by `certificatePem`'s key, issued by a loopback token server. */
export interface TokenAuthOptions {
  kind: 'token';
  realm: string;
  service: string;
  issuer: string;
  /** PEM of the certificate whose key signs the tokens (the registry's rootcertbundle). */
  certificatePem: string;
}

export interface RegistryOptions {
  auth?: BasicAuthOptions | TokenAuthOptions;
  /** Extra environment for the registry process (REGISTRY_* overrides). */
  env?: Record<string, string>;
}

export interface RunningRegistry {
  /** `127.0.0.1:<port>`: the registry host part of image references. */
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  storageDir: string;
  process: ChildProcess;
  /** Kills the registry, waits for its exit and removes its storage. Idempotent. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function registryConfig(
  port: number,
  storageDir: string,
  auth: RegistryOptions['auth'],
  workDir: string,
): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    // as in the config Debian's package ships (/etc/docker/registry/config.yml)
    '  cache:',
    '    blobdescriptor: inmemory',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
  ];
  if (auth?.kind === 'basic') {
    const htpasswd = path.join(workDir, 'htpasswd');
    fs.writeFileSync(htpasswd, `${auth.username}:${bcrypt.hashSync(auth.password, 5)}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: trustops-test', `    path: ${htpasswd}`);
  } else if (auth?.kind === 'token') {
    const bundle = path.join(workDir, 'token-root.pem');
    fs.writeFileSync(bundle, auth.certificatePem);
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${auth.realm}`,
      `    service: ${auth.service}`,
      `    issuer: ${auth.issuer}`,
      `    rootcertbundle: ${bundle}`,
    );
  }
  return lines.join('\n') + '\n';
}

async function waitReady(
  url: string,
  child: ChildProcess,
  stderr: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`docker-registry exited with ${child.exitCode} before it was ready:\n${stderr()}`);
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      // 200 when anonymous, 401 when auth is configured: both mean the API answers.
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry not ready within ${timeoutMs} ms:\n${stderr()}`);
}

export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  ensureRegistryInstalled();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trustops-registry-'));
  const storageDir = path.join(workDir, 'storage');
  fs.mkdirSync(storageDir);
  const configPath = path.join(workDir, 'config.yml');

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    fs.writeFileSync(configPath, registryConfig(port, storageDir, options.auth, workDir));
    const child = spawn(REGISTRY_BINARY, ['serve', configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-8000);
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, () => err, 15000);
    } catch (e) {
      child.kill('SIGKILL');
      // A port race with another process is the one failure worth a retry.
      if (attempt < 3 && /address already in use/.test(err)) continue;
      fs.rmSync(workDir, { recursive: true, force: true });
      throw e;
    }
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= new Promise<void>((resolve) => {
        const done = (): void => {
          fs.rmSync(workDir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      });
      return stopped;
    };
    return { host: `127.0.0.1:${port}`, port, url, storageDir, process: child, stop };
  }
}

/** True while a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
