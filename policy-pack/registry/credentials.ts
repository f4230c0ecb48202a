import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { RegistryError } from './errors';
import type { CredentialSource, RegistryCredential } from './types';

/**
 * Where credentials come from, in order:
 *  1. Environment: TRUSTOPS_REGISTRY_HOST names the one registry host that TRUSTOPS_REGISTRY_USERNAME and
 *     TRUSTOPS_REGISTRY_PASSWORD are for (never sent anywhere else).
 *  2. Docker's config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json): `credHelpers[host]`,
 *     then `auths[host]` (`auth`, `username`/`password`, `identitytoken`), then `credsStore` — each helper
 *     run as `docker-credential-<name> get`, as `gcloud auth configure-docker` sets up.
 * Nothing here logs or puts a secret into an error message.
 */

export const ENV_HOST = 'TRUSTOPS_REGISTRY_HOST';
export const ENV_USERNAME = 'TRUSTOPS_REGISTRY_USERNAME';
export const ENV_PASSWORD = 'TRUSTOPS_REGISTRY_PASSWORD';

const HELPER_TIMEOUT_MS = 10_000;
const HELPER_OUTPUT_LIMIT = 64 * 1024;
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Docker Hub's credentials are stored under its legacy index URL. */
const DOCKER_HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
];

export function environmentCredentials(env: NodeJS.ProcessEnv = process.env): CredentialSource {
  return {
    lookup(registry) {
      const host = env[ENV_HOST];
      const username = env[ENV_USERNAME];
      const password = env[ENV_PASSWORD];
      if (!host || host !== registry || username === undefined || password === undefined)
        return Promise.resolve(undefined);
      return Promise.resolve({ kind: 'basic', username, password });
    },
  };
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export interface DockerConfigOptions {
  /** Directory holding config.json. Default $DOCKER_CONFIG, else ~/.docker. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
}

export function dockerConfigCredentials(opts: DockerConfigOptions = {}): CredentialSource {
  const env = opts.env ?? process.env;
  const dir = opts.configDir ?? env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker');
  const file = path.join(dir, 'config.json');
  let config: Promise<DockerConfigFile | undefined> | undefined;
  const load = (): Promise<DockerConfigFile | undefined> =>
    (config ??= fs.readFile(file, 'utf8').then(
      (text) => {
        try {
          return JSON.parse(text) as DockerConfigFile;
        } catch (cause) {
          throw new RegistryError('CREDENTIALS_ERROR', `${file} is not valid JSON; fix or remove it.`, {
            cause,
          });
        }
      },
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw new RegistryError('CREDENTIALS_ERROR', `Cannot read ${file} (${e.code ?? 'error'}).`);
      },
    ));

  return {
    async lookup(registry) {
      const cfg = await load();
      if (!cfg) return undefined;
      const keys =
        registry === 'docker.io' ? DOCKER_HUB_KEYS : [registry, `https://${registry}`, `http://${registry}`];
      for (const key of keys) {
        const helper = cfg.credHelpers?.[key];
        if (helper) return runCredentialHelper(helper, key, env);
      }
      for (const key of keys) {
        const entry = cfg.auths?.[key] ?? findAuthByHost(cfg.auths, registry);
        if (!entry) continue;
        if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken };
        if (entry.auth) {
          const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          if (colon < 0) {
            throw new RegistryError(
              'CREDENTIALS_ERROR',
              `The "auth" entry for ${registry} in ${file} is not base64 of user:password.`,
              {
                registry,
              },
            );
          }
          return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
        }
        if (entry.username !== undefined && entry.password !== undefined) {
          return { kind: 'basic', username: entry.username, password: entry.password };
        }
      }
      if (cfg.credsStore) return runCredentialHelper(cfg.credsStore, keys[0] ?? registry, env);
      return undefined;
    },
  };
}

/** `auths` keys are sometimes URLs with a path (`https://gcr.io/v2/`): match on the host. */
function findAuthByHost(
  auths: DockerConfigFile['auths'],
  registry: string,
): NonNullable<DockerConfigFile['auths']>[string] | undefined {
  for (const [key, value] of Object.entries(auths ?? {})) {
    try {
      if (new URL(key.includes('://') ? key : `https://${key}`).host === registry) return value;
    } catch {
      // not a URL-like key
    }
  }
  return undefined;
}

/** Runs `docker-credential-<helper> get`, host on stdin; "not found" is anonymous, any other failure an error. */
export function runCredentialHelper(
  helper: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryCredential | undefined> {
  if (!HELPER_NAME.test(helper)) {
    return Promise.reject(
      new RegistryError('CREDENTIALS_ERROR', `Credential helper name "${helper.slice(0, 60)}" is not valid.`),
    );
  }
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new RegistryError('CREDENTIALS_ERROR', `${program} did not answer within ${HELPER_TIMEOUT_MS} ms.`),
      );
    }, HELPER_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      if (out.length < HELPER_OUTPUT_LIMIT) out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < HELPER_OUTPUT_LIMIT) err += d.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new RegistryError(
          'CREDENTIALS_ERROR',
          `Docker's config names the credential helper ${program}, which could not be run (${e.code ?? 'error'}); install it or remove it from config.json.`,
        ),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        // Helpers print "credentials not found in native keychain" on a miss: that is anonymous, not an error.
        if (/credentials not found/i.test(out + err)) return resolve(undefined);
        return reject(
          new RegistryError('CREDENTIALS_ERROR', `${program} get failed with exit code ${code}.`),
        );
      }
      try {
        const parsed = JSON.parse(out) as { Username?: unknown; Secret?: unknown };
        if (typeof parsed.Secret !== 'string' || typeof parsed.Username !== 'string')
          throw new Error('fields');
        resolve(
          parsed.Username === '<token>'
            ? { kind: 'identity-token', token: parsed.Secret }
            : { kind: 'basic', username: parsed.Username, password: parsed.Secret },
        );
      } catch {
        reject(
          new RegistryError('CREDENTIALS_ERROR', `${program} get did not print {"Username","Secret"} JSON.`),
        );
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverUrl);
  });
}

/** The first source that knows the host wins. */
export function chainCredentials(...sources: CredentialSource[]): CredentialSource {
  return {
    async lookup(registry) {
      for (const source of sources) {
        const found = await source.lookup(registry);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/** Default: environment variables, then Docker's config.json. */
export function defaultCredentials(env: NodeJS.ProcessEnv = process.env): CredentialSource {
  return chainCredentials(environmentCredentials(env), dockerConfigCredentials({ env }));
}
