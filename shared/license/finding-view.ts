// Rebuilds the Command certificate object a stored finding was made from, far enough for the query evaluator
// (shared/query BUILT_IN_FIELDS) to test a collection's query against it; the daily count has no Command access.
import { isIPv6 } from 'node:net';
import type { Finding, KeyfactorSection } from '#shared/findings/index';
import type { CommandCertificate, SubjectAltNameElement } from '#shared/keyfactor/index';
import { SanType } from '#shared/keyfactor/index';
import type { QueryNode } from '#shared/query/index';
import { parseQuery, resolveField } from '#shared/query/index';

/**
 * Built-in query fields the finding does not carry (Command's ArchivedKey, PrincipalName and EKU display names are
 * not in the document), so a collection query using them cannot be evaluated faithfully. Fields the evaluator
 * itself cannot answer (OwnerRoleName, Revoker...) are refused by compileCertificateFilter.
 */
export const FIELDS_NOT_IN_FINDING: readonly string[] = ['ArchivedKey', 'NetBIOSPrincipal', 'EKUName'];

const SAN_TYPE_OF_OTHER: Record<string, number> = {
  otherName: SanType.OtherName,
  directoryName: SanType.DirectoryName,
  registeredId: SanType.RegisteredId,
  x400Address: SanType.X400,
  ediPartyName: SanType.EdiParty,
};

/**
 * The Command view of a stored finding: Command's own fields from `crypto.x509.keyfactor`, and from the parsed
 * certificate what Command derives from it (subject OU and e-mail, SANs, EKU OIDs, curve). Null when the finding
 * was not made from Command (no keyfactor section). ContentBytes is empty: the finding does not keep the DER.
 */
export function commandViewOfFinding(finding: Finding): CommandCertificate | null {
  const x509 = finding.crypto.x509;
  const k = x509.keyfactor;
  if (k === null) return null;
  const subject = x509.subject?.attributes ?? [];
  const firstOf = (type: string): string | null => subject.find((a) => a.type === type)?.value ?? null;
  return {
    Id: k.certificate_id,
    ContentBytes: '',
    Thumbprint: k.thumbprint ?? x509.fingerprints?.sha1.toUpperCase() ?? '',
    SerialNumber: k.serial_number ?? x509.serial_number?.toUpperCase() ?? '',
    IssuedDN: k.issued_dn ?? x509.subject?.dn ?? null,
    IssuedCN: k.issued_cn ?? x509.common_name ?? null,
    IssuerDN: k.issuer_dn ?? x509.issuer?.dn ?? null,
    ImportDate: k.import_date ?? '',
    NotBefore: k.not_before ?? x509.not_before ?? '',
    NotAfter: k.not_after ?? x509.not_after ?? '',
    CertState: k.cert_state.code,
    KeySizeInBits: k.key_size_bits ?? x509.public_key?.key_size_bits ?? 0,
    KeyType: k.key_type?.code ?? 0,
    SigningAlgorithm: k.signing_algorithm ?? '',
    RevocationEffDate: k.revocation_date,
    RevocationReason: k.revocation_reason?.code ?? null,
    RevocationComment: k.revocation_comment,
    CertificateAuthorityName: k.certificate_authority_name,
    TemplateName: k.template_name,
    RequesterName: k.requester_name,
    // Documents stored before cert_request_id existed have no such key: no request known.
    CertRequestId: certRequestIdOf(k),
    ...(k.has_private_key === null ? {} : { HasPrivateKey: k.has_private_key }),
    IssuedOU: firstOf('OU'),
    IssuedEmail: firstOf('emailAddress'),
    Curve: x509.public_key?.curve_oid ?? null,
    SubjectAltNameElements: subjectAltNames(finding),
    ExtendedKeyUsages: (x509.extended_key_usage ?? []).map((eku) => ({ Oid: eku.oid, DisplayName: null })),
    Locations: k.locations.map((l) => ({
      StoreMachine: l.store_machine,
      StorePath: l.store_path,
      StoreType: l.store_type,
      Alias: l.alias,
      ChainLevel: l.chain_level,
      CertStoreId: l.cert_store_id,
    })),
    SSLLocations: k.ssl_locations.map((l) => ({
      StorePath: l.store_path,
      AgentPool: l.agent_pool,
      IPAddress: l.ip_address,
      Port: l.port,
      NetworkName: l.network_name,
    })),
    Metadata: k.metadata,
  };
}

export function certRequestIdOf(section: KeyfactorSection): number | null {
  const id = (section as Partial<KeyfactorSection>).cert_request_id;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
}

function subjectAltNames(finding: Finding): SubjectAltNameElement[] {
  const names = finding.crypto.x509.subject_alt_names;
  if (!names) return [];
  const out: SubjectAltNameElement[] = [];
  const add = (values: readonly string[], type: number) => {
    for (const value of values) out.push({ Value: value, Type: type });
  };
  add(names.dns, SanType.DNS);
  add(names.email, SanType.Email);
  add(names.uri, SanType.URI);
  add(names.ip.map(compactIp), SanType.IPAddress);
  add(names.upn, SanType.UPN);
  for (const other of names.other)
    out.push({ Value: other.value, Type: SAN_TYPE_OF_OTHER[other.type] ?? 999 });
  return out;
}

/**
 * IPv6 as RFC 5952 text (lowercase, longest zero run as ::), the form Command's SAN values take in the simulator's
 * model of Command; the finding writes every group out. The URL parser serialises IPv6 hosts exactly so.
 */
function compactIp(value: string): string {
  if (!isIPv6(value)) return value;
  return new URL(`http://[${value}]/`).hostname.slice(1, -1);
}

/**
 * Names of the query's fields that the finding view cannot answer (see FIELDS_NOT_IN_FINDING), in Command's spelling.
 * Throws QueryError when the text does not parse.
 */
export function fieldsNotInFinding(query: string): string[] {
  const tree = parseQuery(query);
  const found = new Set<string>();
  const visit = (node: QueryNode): void => {
    if (node.type === 'clause') {
      const field = resolveField(node.field);
      if (field?.kind === 'built-in' && FIELDS_NOT_IN_FINDING.includes(field.definition.name)) {
        found.add(field.definition.name);
      }
      return;
    }
    node.children.forEach(visit);
  };
  if (tree !== null) visit(tree);
  return [...found];
}
