// KFS-CRT-*: how the certificate is meant to be used — self-signed leaves, TLS servers without SAN, wildcard names.
import type { ParsedCertificate } from '#shared/x509/index';
import { isSelfSigned, isTlsServerLeaf, listSome } from '../rule';
import type { CertificateRule, RuleSubject } from '../rule';

export const selfSignedLeaf: CertificateRule = {
  id: 'KFS-CRT-001',
  scope: 'certificate',
  title: 'Self-signed end-entity certificate',
  severities: ['medium'],
  remediation:
    'Replace it with a certificate issued by your CA (through Command), so it can be trusted, revoked and renewed centrally.',
  evaluate(certificate: ParsedCertificate, subject: RuleSubject) {
    if (subject.isCa || !isSelfSigned(certificate)) return null;
    const name = certificate.subject.rfc4514 === '' ? 'an empty subject' : certificate.subject.rfc4514;
    return {
      severity: 'medium',
      message: `Self-signed certificate for ${name} that is not a CA: no CA vouches for it, it cannot be revoked, and clients trust it only if told to (or are taught to click through warnings).`,
    };
  },
};

function hasHostName(certificate: ParsedCertificate): boolean {
  const names = certificate.subjectAltNames;
  if (names === null) return false;
  for (const name of names) if (name.type === 'dns' || name.type === 'ip') return true;
  return false;
}

export const tlsServerWithoutSan: CertificateRule = {
  id: 'KFS-CRT-002',
  scope: 'certificate',
  title: 'TLS server certificate without a DNS or IP subjectAltName',
  severities: ['medium'],
  remediation: 'Re-issue it with every host name (and IP address) it serves in the subjectAltName extension.',
  evaluate(certificate: ParsedCertificate, subject: RuleSubject) {
    if (!isTlsServerLeaf(certificate, subject) || hasHostName(certificate)) return null;
    const cn = certificate.commonName === null ? 'no CN either' : `CN "${certificate.commonName}"`;
    const what =
      certificate.subjectAltNames === null
        ? 'no subjectAltName extension'
        : 'no DNS or IP entry in its subjectAltName';
    return {
      severity: 'medium',
      message: `TLS server certificate with ${what} (${cn}): browsers ignore the CN since Chrome 58 and Firefox 48 (RFC 6125), so connections fail name validation.`,
    };
  },
};

export const wildcardName: CertificateRule = {
  id: 'KFS-CRT-003',
  scope: 'certificate',
  title: 'Wildcard name',
  severities: ['low'],
  remediation:
    'Prefer certificates naming each host; where a wildcard stays, keep its key in few, well-protected places.',
  evaluate(certificate: ParsedCertificate) {
    const wildcards: string[] = [];
    const names = certificate.subjectAltNames;
    if (names !== null) {
      for (const name of names)
        if (name.type === 'dns' && name.value.includes('*')) wildcards.push(name.value);
    }
    const cn = certificate.commonName;
    if (cn !== null && cn.includes('*') && !wildcards.includes(cn)) wildcards.push(`${cn} (CN)`);
    if (wildcards.length === 0) return null;
    return {
      severity: 'low',
      message: `Wildcard name ${listSome(wildcards)}: one key answers for every matching host, so its compromise exposes them all.`,
    };
  },
};
