/** PEM (one block: CERTIFICATE or PUBLIC KEY) -> DER bytes. Throws on anything else. */
export function toDER(pem: string): Buffer {
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m?.[2]) throw new Error('not a PEM block');
  const der = Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
  if (der.length === 0) throw new Error('empty PEM block');
  return der;
}
