/**
 * TLS material for the publishers, given as PEM text or as a path to a PEM file, checked
 * up front so that a wrong file gives "TLS client key: wrong passphrase" at deploy time
 * instead of an opaque handshake failure later.
 */
import crypto from 'crypto';
import fs from 'fs';

export interface TlsMaterial {
  /** CA certificate(s) that sign the server's certificate; empty = the system's CAs. */
  ca?: string;
  /** Client certificate for mutual TLS. */
  cert?: string;
  /** Client private key (a secret: keep it in credentials). */
  key?: string;
  passphrase?: string;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Name to verify the certificate against, when connecting by IP address. */
  servername?: string;
}

export interface TlsOptions {
  ca?: string[];
  cert?: string;
  key?: string;
  passphrase?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

function pemOrFile(value: string, what: string): string {
  const text = value.trim();
  if (text.includes('-----BEGIN')) return text;
  try {
    return fs.readFileSync(text, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TlsConfigError(`${what}: "${text.slice(0, 80)}" is neither PEM text nor a readable file (${e.code ?? e.message})`);
  }
}

function firstLine(err: unknown): string {
  return String((err as Error).message ?? err).split('\n')[0];
}

/** Loads and checks the material; throws TlsConfigError naming the field at fault. */
export function loadTls(m: TlsMaterial): TlsOptions {
  const out: TlsOptions = { rejectUnauthorized: m.rejectUnauthorized !== false };
  if (m.servername) out.servername = m.servername;
  if (m.ca && m.ca.trim()) {
    const pem = pemOrFile(m.ca, 'TLS CA certificate');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (!blocks.length) throw new TlsConfigError('TLS CA certificate: no "BEGIN CERTIFICATE" block found');
    blocks.forEach((b, i) => {
      try {
        new crypto.X509Certificate(b);
      } catch (err) {
        throw new TlsConfigError(`TLS CA certificate ${i + 1}: not a valid certificate (${firstLine(err)})`);
      }
    });
    out.ca = blocks;
  }
  let cert: crypto.X509Certificate | undefined;
  if (m.cert && m.cert.trim()) {
    out.cert = pemOrFile(m.cert, 'TLS client certificate');
    try {
      cert = new crypto.X509Certificate(out.cert);
    } catch (err) {
      throw new TlsConfigError(`TLS client certificate: not a valid certificate (${firstLine(err)})`);
    }
  }
  if (m.key && m.key.trim()) {
    out.key = pemOrFile(m.key, 'TLS client key');
    if (m.passphrase) out.passphrase = m.passphrase;
    let key: crypto.KeyObject;
    try {
      key = crypto.createPrivateKey({ key: out.key, passphrase: m.passphrase || undefined });
    } catch (err) {
      const msg = firstLine(err);
      const hint = /bad decrypt|passphrase|interrupted or cancelled/i.test(msg) ? 'wrong or missing passphrase' : 'not a valid private key';
      throw new TlsConfigError(`TLS client key: ${hint} (${msg})`);
    }
    if (cert && !cert.checkPrivateKey(key)) throw new TlsConfigError('TLS client key does not belong to the client certificate');
  }
  if (!!out.cert !== !!out.key) {
    throw new TlsConfigError(out.cert ? 'TLS client certificate given without its key' : 'TLS client key given without its certificate');
  }
  return out;
}

/** Explains a TLS handshake failure in the integrator's terms. */
export function describeTlsError(err: NodeJS.ErrnoException): string | undefined {
  const code = err.code ?? '';
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED/.test(code)) {
    return `the server certificate is not trusted (${code}); give the CA certificate that signed it`;
  }
  if (code === 'CERT_HAS_EXPIRED') return 'the server certificate has expired';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server certificate is not for this host name (${firstLine(err)})`;
  if (code.startsWith('ERR_SSL') || /alert|handshake/i.test(err.message ?? '')) return `TLS handshake failed (${firstLine(err)})`;
  return undefined;
}
