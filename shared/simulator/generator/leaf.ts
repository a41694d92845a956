// One end-entity certificate: draws its traits from the mix, then builds and signs the DER and gathers the
// inventory facts (state, request, metadata, locations) that become Command attributes.
import { createHash } from 'node:crypto';
import { CertState } from '#shared/keyfactor/model';
import type { SslLocation, StoreLocation } from '#shared/keyfactor/model';
import { SIGNATURE_ALGORITHMS, keyFamilyOf, selfSignatureFor } from './algorithms';
import type { KeyFamily, LeafKeyKind, SignatureKind } from './algorithms';
import {
  APPLICATIONS,
  AGENT_POOLS,
  COST_CENTERS,
  DOMAINS,
  EKU,
  ENVIRONMENT_NAMES,
  ENVIRONMENTS,
  FIRST_NAMES,
  IPV4_PREFIXES,
  IPV6_PREFIX,
  KUBERNETES_NAMESPACES,
  LAST_NAMES,
  ORGANISATIONAL_UNITS,
  ORGANISATIONS,
  OWNER_ROLES,
  REQUESTERS,
  REVOCATION_REASONS,
  SSL_NETWORKS,
  STORE_TYPES,
  TEMPLATES,
} from './catalog';
import type { TemplateEntry } from './catalog';
import { buildCertificate, serialContent } from './certificate';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  certificatePoliciesExtension,
  extendedKeyUsageExtension,
  keyUsageExtension,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from './extensions';
import type { GeneralName, KeyUsageName } from './extensions';
import type { CertificateAuthority, CertificateFacts, Hierarchy } from './hierarchy';
import { leafKeyPool } from './keys';
import type { GeneratorMix, IssuedSignatureKind, ProfileKind, ValidityKind } from './mix';
import { encodeName } from './names';
import type { DistinguishedName, NameComponent } from './names';
import type { Prng } from './prng';
import { DAY_MS, HOUR_MS, chooseValidity } from './validity';

export interface InventoryFacts {
  id: number;
  importDate: Date;
  certState: number;
  revocation: { date: Date; reason: number; comment: string } | null;
  /** The Command-managed CA that issued it; null for self-signed, CA certificates and offline roots. */
  authority: CertificateAuthority | null;
  request: { requestId: number; template: TemplateEntry; requester: { id: number; name: string } } | null;
  hasPrivateKey: boolean;
  archivedKey: boolean;
  principalName: string | null;
  ownerRole: { id: number; name: string } | null;
  metadata: Record<string, string>;
  locations: StoreLocation[];
  sslLocations: SslLocation[];
}

/** What the generator decided for a certificate; tests and benchmarks use it, Command never sees it. */
export interface CertificateTraits {
  role: 'root' | 'intermediate' | 'leaf';
  /** Label of the CA certificate that signed it (itself for roots and self-signed leaves: null). */
  issuerLabel: string | null;
  label: string | null;
  selfSigned: boolean;
  validity: ValidityKind | null;
  profile: ProfileKind | null;
  leafKey: LeafKeyKind | null;
  signature: SignatureKind;
  requested: boolean;
  revoked: boolean;
}

export interface GeneratedLeaf {
  facts: CertificateFacts;
  inventory: InventoryFacts;
  traits: CertificateTraits;
}

export interface LeafContext {
  mix: GeneratorMix;
  hierarchy: Hierarchy;
  now: number;
}

/** For self-signed certificates there is no issuer validity to stay inside. */
const SELF_SIGNED_EARLIEST = Date.UTC(2000, 0, 1);
const SELF_SIGNED_LATEST = Date.UTC(2099, 11, 31);

const ASCII_FOLDS: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue', é: 'e', è: 'e', ß: 'ss' };

/** rfc822Name and dNSName are IA5String, so e-mail local parts need ASCII. */
function asciiFold(text: string): string {
  return text.toLowerCase().replace(/[äöüéèß]/g, (character) => ASCII_FOLDS[character] ?? '');
}

function uuidFrom(prng: Prng): string {
  const bytes = prng.bytes(16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Serial magnitudes shaped like real CAs': mostly 16–20 random octets, some 8-octet legacy serials, tiny ones on
 * self-signed certificates; one in ten with the top bit set, so DER (and Command's SerialNumber) carries a 00 octet.
 */
function serialFor(prng: Prng, selfSigned: boolean): Buffer {
  if (selfSigned && prng.chance(0.3)) return Buffer.from([prng.int(1, 0x7f)]);
  const roll = prng.float();
  const length = roll < 0.4 ? 20 : roll < 0.7 ? 19 : roll < 0.92 ? 16 : 8;
  const highBit = prng.chance(0.1);
  // RFC 5280 caps serials at 20 content octets, and the 00 pad counts.
  const magnitude = prng.bytes(highBit && length === 20 ? 19 : length);
  magnitude[0] = highBit ? 0x80 | ((magnitude[0] ?? 0) & 0x7f) : Math.max(1, (magnitude[0] ?? 0) & 0x7f);
  return magnitude;
}

interface Identity {
  subject: NameComponent[];
  sans: GeneralName[];
  ekus: string[];
  keyUsages: KeyUsageName[] | null;
  host: string;
  app: string;
  env: (typeof ENVIRONMENTS)[number];
  person: { first: string; last: string } | null;
}

function serviceHost(prng: Prng, app: string, env: string): string {
  const domain = prng.pick(DOMAINS);
  return env === 'prod' ? `${app}.${domain}` : `${app}.${env}.${domain}`;
}

function orgName(prng: Prng, commonName: string, level: 'cn' | 'org' | 'full'): NameComponent[] {
  const org = prng.pick(ORGANISATIONS);
  if (level === 'cn') return [{ type: 'CN', value: commonName }];
  if (level === 'org') {
    return [
      { type: 'C', value: org.country },
      { type: 'O', value: org.name },
      { type: 'CN', value: commonName },
    ];
  }
  const name: NameComponent[] = [{ type: 'C', value: org.country }];
  if (org.state) name.push({ type: 'ST', value: org.state });
  name.push({ type: 'L', value: org.locality }, { type: 'O', value: org.name });
  if (prng.chance(0.6)) name.push({ type: 'OU', value: prng.pick(ORGANISATIONAL_UNITS) });
  name.push({ type: 'CN', value: commonName });
  return name;
}

function subjectLevel(prng: Prng): 'cn' | 'org' | 'full' {
  const roll = prng.float();
  return roll < 0.25 ? 'cn' : roll < 0.5 ? 'org' : 'full';
}

function ipv4(prng: Prng): string {
  return `${prng.pick(IPV4_PREFIXES)}.${prng.int(1, 254)}`;
}

function ipv6(prng: Prng): string {
  // RFC 5952 canonical text: lowercase, no leading zeros, "::" for the zero run.
  return `${IPV6_PREFIX}:${prng.int(1, 0xffff).toString(16)}::${prng.int(1, 0xffff).toString(16)}`;
}

function keyUsagesFor(family: KeyFamily, base: 'tls' | 'email' | 'sign', prng: Prng): KeyUsageName[] {
  if (base === 'sign') return ['digitalSignature'];
  if (family === 'RSA') {
    return base === 'email'
      ? ['digitalSignature', 'nonRepudiation', 'keyEncipherment']
      : ['digitalSignature', 'keyEncipherment'];
  }
  if (family === 'Ed25519')
    return base === 'email' ? ['digitalSignature', 'nonRepudiation'] : ['digitalSignature'];
  // EC keys cannot encrypt; some templates still grant key agreement for ECDH suites.
  const usages: KeyUsageName[] =
    base === 'email' ? ['digitalSignature', 'nonRepudiation'] : ['digitalSignature'];
  if (prng.chance(0.4)) usages.push('keyAgreement');
  return usages;
}

function identityFor(profile: ProfileKind, family: KeyFamily, prng: Prng): Identity {
  const app = prng.pick(APPLICATIONS);
  const env = prng.pick(ENVIRONMENTS);
  const number = prng.int(1, 40).toString().padStart(2, '0');
  switch (profile) {
    case 'tlsServer': {
      const host = serviceHost(prng, app, env);
      const wildcard = prng.chance(0.12);
      const commonName = wildcard ? `*.${host.slice(host.indexOf('.') + 1)}` : host;
      const sans: GeneralName[] = [{ type: 'dns', value: commonName }];
      if (wildcard) sans.push({ type: 'dns', value: host.slice(host.indexOf('.') + 1) });
      const extraNames = prng.int(0, 3);
      for (let index = 0; index < extraNames; index++) {
        sans.push({ type: 'dns', value: `${app}-${prng.int(1, 99)}.${prng.pick(DOMAINS)}` });
      }
      if (prng.chance(0.2)) {
        const addresses = prng.int(1, 2);
        for (let index = 0; index < addresses; index++) sans.push({ type: 'ip', value: ipv4(prng) });
      }
      if (prng.chance(0.06)) sans.push({ type: 'ip', value: ipv6(prng) });
      const ekus = prng.chance(0.5) ? [EKU.serverAuth.oid, EKU.clientAuth.oid] : [EKU.serverAuth.oid];
      return {
        subject: orgName(prng, commonName, subjectLevel(prng)),
        sans,
        ekus,
        keyUsages: keyUsagesFor(family, 'tls', prng),
        host,
        app,
        env,
        person: null,
      };
    }
    case 'tlsServerNoSan': {
      const host = serviceHost(prng, app, env);
      return {
        subject: orgName(prng, host, subjectLevel(prng)),
        sans: [],
        ekus: [EKU.serverAuth.oid],
        keyUsages: prng.chance(0.3) ? null : keyUsagesFor(family, 'tls', prng),
        host,
        app,
        env,
        person: null,
      };
    }
    case 'tlsClient': {
      const host = `srv-${app}-${number}.${prng.pick(DOMAINS)}`;
      return {
        subject: orgName(prng, host, prng.chance(0.5) ? 'cn' : 'org'),
        sans: [{ type: 'dns', value: host }],
        ekus: [EKU.clientAuth.oid],
        keyUsages: keyUsagesFor(family, 'tls', prng),
        host,
        app,
        env,
        person: null,
      };
    }
    case 'serviceMesh': {
      const namespace = prng.pick(KUBERNETES_NAMESPACES);
      const host = `${app}.${namespace}.svc.cluster.local`;
      const sans: GeneralName[] = [
        { type: 'uri', value: `spiffe://cluster.local/ns/${namespace}/sa/${app}` },
        { type: 'dns', value: host },
      ];
      // SPIFFE workload certificates usually have an empty subject (RFC 5280 then requires a critical SAN).
      const subject: NameComponent[] = prng.chance(0.5) ? [] : [{ type: 'CN', value: host }];
      return {
        subject,
        sans,
        ekus: [EKU.serverAuth.oid, EKU.clientAuth.oid],
        keyUsages: keyUsagesFor(family, 'tls', prng),
        host,
        app,
        env,
        person: null,
      };
    }
    case 'email': {
      const first = prng.pick(FIRST_NAMES);
      const last = prng.pick(LAST_NAMES);
      const email = `${asciiFold(first)}.${asciiFold(last)}@${prng.pick(['example.com', 'example.net'])}`;
      const org = prng.pick(ORGANISATIONS);
      const subject: NameComponent[] = [
        { type: 'C', value: org.country },
        { type: 'O', value: org.name },
      ];
      if (prng.chance(0.5)) subject.push({ type: 'OU', value: prng.pick(ORGANISATIONAL_UNITS) });
      subject.push({ type: 'CN', value: `${first} ${last}` }, { type: 'E', value: email });
      return {
        subject,
        sans: [{ type: 'email', value: email }],
        ekus: prng.chance(0.4) ? [EKU.emailProtection.oid, EKU.clientAuth.oid] : [EKU.emailProtection.oid],
        keyUsages: keyUsagesFor(family, 'email', prng),
        host: email,
        app,
        env,
        person: { first, last },
      };
    }
    case 'user': {
      const first = prng.pick(FIRST_NAMES);
      const last = prng.pick(LAST_NAMES);
      const upn = `${asciiFold(first)}.${asciiFold(last)}@corp.example.com`;
      const subject: NameComponent[] = [
        { type: 'DC', value: 'com' },
        { type: 'DC', value: 'example' },
        { type: 'DC', value: 'corp' },
        { type: 'OU', value: 'Users' },
        { type: 'CN', value: `${first} ${last}` },
      ];
      const sans: GeneralName[] = [{ type: 'upn', value: upn }];
      if (prng.chance(0.4)) sans.push({ type: 'email', value: upn });
      const ekus: string[] = [EKU.clientAuth.oid, EKU.smartcardLogon.oid];
      if (prng.chance(0.3)) ekus.push(EKU.emailProtection.oid);
      return {
        subject,
        sans,
        ekus,
        keyUsages: keyUsagesFor(family, 'tls', prng),
        host: upn,
        app,
        env,
        person: { first, last },
      };
    }
    case 'codeSigning': {
      const org = prng.pick(ORGANISATIONS);
      const subject: NameComponent[] = [{ type: 'C', value: org.country }];
      if (org.state) subject.push({ type: 'ST', value: org.state });
      subject.push(
        { type: 'L', value: org.locality },
        { type: 'O', value: org.name },
        { type: 'CN', value: `${org.name} Code Signing` },
      );
      return {
        subject,
        sans: [],
        ekus: prng.chance(0.2) ? [EKU.codeSigning.oid, EKU.documentSigning.oid] : [EKU.codeSigning.oid],
        keyUsages: keyUsagesFor(family, 'sign', prng),
        host: `build-${app}.${prng.pick(DOMAINS)}`,
        app,
        env,
        person: null,
      };
    }
    case 'infrastructure': {
      const domain = prng.pick(DOMAINS);
      const variant = prng.pick(['ocsp', 'tsa', 'ipsec', 'appliance', 'legacy'] as const);
      const host =
        variant === 'ocsp'
          ? `ocsp-${number}.${domain}`
          : variant === 'tsa'
            ? `tsa.${domain}`
            : variant === 'ipsec'
              ? `vpn-gw-${number}.${domain}`
              : `${variant}-${number}.${domain}`;
      const ekus =
        variant === 'ocsp'
          ? [EKU.ocspSigning.oid]
          : variant === 'tsa'
            ? [EKU.timeStamping.oid]
            : variant === 'ipsec'
              ? [EKU.ipsecIke.oid]
              : variant === 'appliance'
                ? [EKU.anyPurpose.oid]
                : [];
      const sans: GeneralName[] =
        variant === 'ipsec' || variant === 'appliance' ? [{ type: 'dns', value: host }] : [];
      return {
        subject: orgName(prng, host, subjectLevel(prng)),
        sans,
        ekus,
        keyUsages:
          variant === 'legacy' ? null : keyUsagesFor(family, variant === 'ipsec' ? 'tls' : 'sign', prng),
        host,
        app,
        env,
        person: null,
      };
    }
  }
}

function metadataFor(prng: Prng, identity: Identity, validity: ValidityKind): Record<string, string> {
  const metadata: Record<string, string> = {};
  metadata.Owner = identity.person
    ? `${asciiFold(identity.person.first)}.${asciiFold(identity.person.last)}@example.com`
    : `team-${identity.app}@example.com`;
  metadata.Environment = ENVIRONMENT_NAMES[identity.env];
  metadata.AppName = identity.app;
  if (prng.chance(0.8)) metadata.CostCenter = prng.pick(COST_CENTERS);
  if (prng.chance(0.85)) {
    // Keyfactor's retirement methodology: renewed or decommissioned certificates are flagged Retired = True.
    metadata.Retired = prng.chance(validity === 'expired' ? 0.35 : 0.03) ? 'True' : 'False';
  }
  return metadata;
}

function storeLocationsFor(prng: Prng, identity: Identity, thumbprint: string): StoreLocation[] {
  const roll = prng.float();
  const count = roll < 0.6 ? 1 : roll < 0.9 ? 2 : 3;
  const locations: StoreLocation[] = [];
  for (let index = 0; index < count; index++) {
    const storeType = prng.pick(STORE_TYPES);
    const machine =
      storeType.shortName === 'AKV'
        ? `kv-${identity.app}.vault.azure.net`
        : storeType.shortName === 'F5-SL-REST'
          ? `f5-${prng.int(1, 4)}.corp.example.com`
          : `srv-${identity.app}-${prng.int(1, 40).toString().padStart(2, '0')}.corp.example.com`;
    locations.push({
      StoreMachine: machine,
      StorePath: storeType.storePath(identity.host, identity.app),
      StoreType: storeType.id,
      Alias: storeType.shortName === 'IIS' ? thumbprint : `${identity.app}-${prng.int(2019, 2026)}`,
      ChainLevel: 0,
      CertStoreId: uuidFrom(prng),
    });
  }
  return locations;
}

function sslLocationsFor(prng: Prng, identity: Identity): SslLocation[] {
  const count = prng.chance(0.75) ? 1 : 2;
  const locations: SslLocation[] = [];
  for (let index = 0; index < count; index++) {
    const port = prng.pick([443, 443, 443, 8443, 636]);
    locations.push({
      StorePath: `${identity.host}:${port}`,
      AgentPool: prng.pick(AGENT_POOLS),
      IPAddress: ipv4(prng),
      Port: port,
      NetworkName: prng.pick(SSL_NETWORKS),
    });
  }
  return locations;
}

/** Command's Thumbprint: uppercase hex SHA-1 of the DER. */
export function thumbprintOf(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase();
}

/** Builds leaf number `id`; every random draw comes from `prng`, in a fixed order, so output depends only on it. */
export function generateLeaf(
  context: LeafContext,
  prng: Prng,
  id: number,
  importDate: number,
): GeneratedLeaf & { thumbprint: string } {
  const { mix, hierarchy, now } = context;
  const requestedValidity = prng.weighted(mix.validity);
  const profile = prng.weighted(mix.profiles);
  const leafKeyKind = prng.weighted(mix.leafKeys);
  const selfSigned = prng.chance(mix.selfSigned);
  const issuedSignature: IssuedSignatureKind = prng.weighted(mix.signatures);
  const authority = selfSigned ? null : hierarchy.issuerFor[issuedSignature];
  const signature = SIGNATURE_ALGORITHMS[selfSigned ? selfSignatureFor(leafKeyKind) : issuedSignature];
  const wantsRequest = !selfSigned && prng.chance(mix.requested);

  const validity = chooseValidity(prng, {
    kind: requestedValidity,
    importDate,
    now,
    earliest: authority ? authority.notBefore.getTime() + DAY_MS : SELF_SIGNED_EARLIEST,
    latest: authority ? authority.notAfter.getTime() : SELF_SIGNED_LATEST,
    requested: wantsRequest,
  });

  const key = prng.pick(leafKeyPool(leafKeyKind));
  const family = keyFamilyOf(leafKeyKind);
  const identity = identityFor(profile, family, prng);
  const serial = serialFor(prng, selfSigned);
  const subject: DistinguishedName = identity.subject;
  const encodedSubject = encodeName(subject);

  const extensions: Buffer[] = [];
  let isCa = false;
  if (selfSigned) {
    // `openssl req -x509` marks its output CA:TRUE by default, so a share of self-signed leaves claim to be CAs.
    const basic = prng.float();
    if (basic < 0.3) {
      isCa = true;
      extensions.push(basicConstraintsExtension(true, null, true));
    } else if (basic < 0.6) {
      extensions.push(basicConstraintsExtension(false, null, false));
    }
  } else if (prng.chance(0.5)) {
    extensions.push(basicConstraintsExtension(false, null, prng.chance(0.5)));
  }
  const keyUsages = selfSigned && prng.chance(0.2) ? null : identity.keyUsages;
  if (keyUsages) extensions.push(keyUsageExtension(keyUsages));
  if (identity.ekus.length > 0) extensions.push(extendedKeyUsageExtension(identity.ekus));
  if (identity.sans.length > 0) extensions.push(subjectAltNameExtension(identity.sans, subject.length === 0));
  const withSubjectKeyId = !selfSigned || prng.chance(0.7);
  if (withSubjectKeyId) extensions.push(subjectKeyIdentifierExtension(key.subjectKeyIdentifier));
  const crlUrls: string[] = [];
  if (authority) {
    extensions.push(authority.leafAuthorityKeyIdentifier);
    // A few issuance profiles leave out revocation pointers (short-lived workload certificates mostly).
    if (prng.chance(profile === 'serviceMesh' ? 0.5 : 0.95)) {
      extensions.push(authority.leafCrlDistributionPoints);
      crlUrls.push(authority.crlUrl);
    }
    if (authority.label !== 'legacy-issuing') extensions.push(authority.leafAuthorityInfoAccess);
    if (authority.leafPolicies.length > 0) {
      extensions.push(certificatePoliciesExtension(authority.leafPolicies, null));
    }
  } else if (withSubjectKeyId && prng.chance(0.3)) {
    extensions.push(authorityKeyIdentifierExtension(key.subjectKeyIdentifier));
  }

  const der = buildCertificate({
    serial,
    signature,
    issuer: authority ? authority.encodedName : encodedSubject,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    subject: encodedSubject,
    subjectPublicKeyInfo: key.subjectPublicKeyInfo,
    extensions,
    signer: authority ? authority.key : key,
  });

  const facts: CertificateFacts = {
    der,
    serial: serialContent(serial),
    subject,
    issuer: authority ? authority.name : subject,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    key,
    signature,
    keyUsages,
    extendedKeyUsages: identity.ekus,
    subjectAltNames: identity.sans,
    crlUrls,
    isCa,
    pathLength: null,
  };

  const revoked = authority !== null && validity.notBefore.getTime() < now && prng.chance(mix.revoked);
  let revocation: InventoryFacts['revocation'] = null;
  if (revoked) {
    const end = Math.min(now, validity.notAfter.getTime());
    const start = validity.notBefore.getTime() + HOUR_MS;
    const date = new Date(Math.floor((start + prng.float() * Math.max(0, end - start)) / 1000) * 1000);
    const reason = prng.pick(REVOCATION_REASONS);
    revocation = { date, reason: reason.reason, comment: prng.pick(reason.comments) };
  }

  const request = validity.requested
    ? { requestId: 100_000 + id, template: TEMPLATES[profile], requester: prng.pick(REQUESTERS) }
    : null;
  const hasPrivateKey = prng.chance(request ? Math.min(1, mix.hasPrivateKey * 1.5) : mix.hasPrivateKey);
  const principalName =
    request && identity.person
      ? `CORP\\${asciiFold(identity.person.first)}.${asciiFold(identity.person.last)}`
      : null;
  const ownerRole = prng.chance(mix.ownerRole) ? prng.pick(OWNER_ROLES) : null;
  const metadata = prng.chance(mix.metadata) ? metadataFor(prng, identity, validity.kind) : {};
  const thumbprint = thumbprintOf(der);
  const locations = prng.chance(mix.storeLocations) ? storeLocationsFor(prng, identity, thumbprint) : [];
  const tlsProfile = profile === 'tlsServer' || profile === 'tlsServerNoSan' || profile === 'serviceMesh';
  const sslLocations = tlsProfile && prng.chance(mix.sslLocations) ? sslLocationsFor(prng, identity) : [];

  return {
    facts,
    thumbprint,
    inventory: {
      id,
      importDate: new Date(importDate),
      certState: revoked ? CertState.Revoked : CertState.Active,
      revocation,
      authority,
      request,
      hasPrivateKey,
      archivedKey: hasPrivateKey && request !== null,
      principalName,
      ownerRole,
      metadata,
      locations,
      sslLocations,
    },
    traits: {
      role: 'leaf',
      issuerLabel: authority ? authority.label : null,
      label: null,
      selfSigned,
      validity: validity.kind,
      profile,
      leafKey: leafKeyKind,
      signature: signature.kind,
      requested: validity.requested,
      revoked,
    },
  };
}
