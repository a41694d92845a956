// A throw-away self-signed server certificate for localhost, so clients that insist on HTTPS can reach the simulator.
// Built with a few lines of DER and node:crypto: no certificate library, no openssl binary at run time.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

export interface SelfSignedCertificate {
  /** PEM of the server certificate. It is self-signed, so this is also what clients trust. */
  cert: string;
  /** PKCS#8 PEM private key. */
  key: string;
  /** Same as `cert`: hand it to clients as their CA bundle. */
  caCertPem: string;
}

export interface SelfSignedOptions {
  /** Default ['localhost']. */
  dnsNames?: string[];
  /** Default ['127.0.0.1', '::1']. */
  ipAddresses?: string[];
  /** Default 30. */
  validityDays?: number;
  now?: Date;
}

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const seq = (...children: Buffer[]) => tlv(0x30, Buffer.concat(children));
const set = (...children: Buffer[]) => tlv(0x31, Buffer.concat(children));
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);
const octets = (content: Uint8Array) => tlv(0x04, content);
const bits = (content: Uint8Array) => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

function integer(magnitude: Buffer): Buffer {
  // A set top bit would read as negative: DER prefixes a zero octet.
  return tlv(0x02, magnitude[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      chunk.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime after. */
function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}

function ipBytes(text: string): Buffer {
  if (isIP(text) === 4) return Buffer.from(text.split('.').map(Number));
  const [head = '', tail = ''] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = text.includes('::') ? 8 - headGroups.length - tailGroups.length : 0;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((group, index) => out.writeUInt16BE(parseInt(group, 16), index * 2));
  return out;
}

const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [TRUE] : []), octets(value));

function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/**
 * ECDSA P-256 / SHA-256, CA:true so OpenSSL (Node) and Go both accept it as its own trust anchor; serverAuth,
 * SANs for localhost, 127.0.0.1 and ::1 by default.
 */
export function createSelfSignedCertificate(options: SelfSignedOptions = {}): SelfSignedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const dnsNames = options.dnsNames ?? ['localhost'];
  const ipAddresses = options.ipAddresses ?? ['127.0.0.1', '::1'];
  const now = options.now ?? new Date();
  const name = seq(
    set(seq(oid('2.5.4.10'), utf8('Keyfactor Command Simulator'))),
    set(seq(oid('2.5.4.3'), utf8(dnsNames[0] ?? 'localhost'))),
  );
  // Subject key identifier: SHA-1 of the key bits (RFC 5280 method 1), skipping the SPKI header for P-256.
  const keyId = createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaWithSha256,
    name,
    seq(
      time(new Date(now.getTime() - 60 * 60 * 1000)),
      time(new Date(now.getTime() + (options.validityDays ?? 30) * 24 * 60 * 60 * 1000)),
    ),
    name,
    spki,
    explicit(
      3,
      seq(
        extension('2.5.29.19', true, seq(TRUE)),
        // digitalSignature (bit 0) and keyCertSign (bit 5): 1000 0100, 2 unused bits.
        extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x02, 0x84]))),
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
        extension(
          '2.5.29.17',
          false,
          seq(
            ...dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, 'latin1'))),
            ...ipAddresses.map((ip) => tlv(0x87, ipBytes(ip))),
          ),
        ),
        extension('2.5.29.14', false, octets(keyId)),
      ),
    ),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const cert = pem('CERTIFICATE', seq(tbs, ecdsaWithSha256, bits(signature)));
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert, key, caCertPem: cert };
}
