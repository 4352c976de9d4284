/**
 * The cluster CA and the API server's serving certificate, made once per data directory with
 * @peculiar/x509 over Node's WebCrypto and reused on every later start.
 */
// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs a Reflect polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export interface Pki {
  readonly caCertPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export const API_SERVICE_IP = '10.96.0.1';

/** The names kubeadm puts on an apiserver certificate, plus the advertise address. */
export function servingNames(advertiseAddress: string): string[] {
  return [
    ...new Set([
      advertiseAddress,
      API_SERVICE_IP,
      '127.0.0.1',
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
    ]),
  ];
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function createPki(advertiseAddress: string): Promise<Pki & { caKeyPem: string }> {
  const now = new Date(Date.now() - 60_000);
  const notAfter = new Date(now.getTime() + TEN_YEARS_MS);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=klab-ca',
    keys: caKeys,
    notBefore: now,
    notAfter,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const names = servingNames(advertiseAddress).map((n) =>
    isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n },
  );
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=kube-apiserver',
    issuer: ca.subject,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore: now,
    notAfter,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return {
    caCertPem: ca.toString('pem'),
    caKeyPem: await keyPem(caKeys.privateKey),
    certPem: cert.toString('pem'),
    keyPem: await keyPem(keys.privateKey),
  };
}

const FILES = { ca: 'ca.crt', caKey: 'ca.key', cert: 'apiserver.crt', key: 'apiserver.key' } as const;

/** Loads the PKI from `dir/pki`, creating it on first use. */
export async function ensurePki(dataDir: string, advertiseAddress: string): Promise<Pki> {
  const dir = join(dataDir, 'pki');
  const path = (f: string): string => join(dir, f);
  if (existsSync(path(FILES.cert))) {
    return {
      caCertPem: await readFile(path(FILES.ca), 'utf8'),
      certPem: await readFile(path(FILES.cert), 'utf8'),
      keyPem: await readFile(path(FILES.key), 'utf8'),
    };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pki = await createPki(advertiseAddress);
  await writeFile(path(FILES.ca), pki.caCertPem);
  await writeFile(path(FILES.caKey), pki.caKeyPem, { mode: 0o600 });
  await writeFile(path(FILES.key), pki.keyPem, { mode: 0o600 });
  await writeFile(path(FILES.cert), pki.certPem);
  return pki;
}
