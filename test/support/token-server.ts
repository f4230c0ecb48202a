/**
 * A loopback token server for the registry's `token` auth: it checks Basic credentials and issues
 * JWTs signed by a self-signed certificate that the registry trusts (`rootcertbundle`).
 */
export interface TokenServer {
  /** The token endpoint (the registry's `realm`). */
  realm: string;
  service: string;
  issuer: string;
  /** The certificate PEM to hand the registry as its rootcertbundle. */
  certificatePem: string;
  /** `startRegistry({ auth: server.registryAuth })`. */
  registryAuth: {
    kind: 'token';
    realm: string;
    service: string;
    issuer: string;
    certificatePem: string;
  };
  close(): Promise<void>;
}

export interface TokenServerOptions {
  username: string;
  password: string;
  service?: string;
  issuer?: string;
}

export async function startTokenServer(_opts: TokenServerOptions): Promise<TokenServer> {
  throw new Error('not implemented');
}
