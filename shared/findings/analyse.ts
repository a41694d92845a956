// The engine: one certificate (Command's object or a DER file) in, one schema-valid finding out, never a throw.
import { hash } from 'node:crypto';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { CertState } from '#shared/keyfactor/model';
import type { ParsedCertificate } from '#shared/x509/index';
import { CertificateParseError, decodeBase64Der, pemToDers, tryParseCertificate } from '#shared/x509/index';
import type { AnalysisContext, PreparedContext } from './context';
import { prepareContext } from './context';
import { deployedCount, keyfactorSection, x509Section } from './document';
import { assessPublicKey } from './pqc';
import type { Rule, RuleOutcome, RuleSubject } from './rule';
import { severityRank } from './rule';
import type {
  Finding,
  HighestSeverity,
  KeyfactorSection,
  RuleResult,
  SourceInfo,
  X509Section,
} from './types';
import { FINDING_DOCUMENT_VERSION } from './types';

type Decoded = { der: Uint8Array; error: null } | { der: null; error: CertificateParseError };

/** Command sends base64 DER; PEM is accepted too (one certificate only), since imports have been seen to keep it. */
function decodeContent(content: string): Decoded {
  if (content.startsWith('-----BEGIN')) {
    try {
      const ders = pemToDers(content);
      const first = ders[0];
      if (ders.length === 1 && first !== undefined) return { der: first, error: null };
      return {
        der: null,
        error: new CertificateParseError(
          'invalid-pem',
          null,
          `PEM text with ${ders.length} certificates, expected one`,
        ),
      };
    } catch (error) {
      return { der: null, error: asParseError(error) };
    }
  }
  const decoded = decodeBase64Der(content);
  return decoded.ok ? { der: decoded.der, error: null } : { der: null, error: decoded.error };
}

function asParseError(error: unknown): CertificateParseError {
  if (error instanceof CertificateParseError) return error;
  return new CertificateParseError('internal-error', null, `analysis failed unexpectedly: ${String(error)}`, {
    cause: error,
  });
}

/**
 * A certificate meant to issue certificates. basicConstraints cA alone is not enough: `openssl req -x509` and many
 * appliances mark self-signed server and client certificates cA:TRUE, with a key usage that forbids certificate
 * signing or with end-entity purposes (extendedKeyUsage) instead of a key usage. RFC 5280 requires keyCertSign in
 * a CA certificate, so cA counts on its own only when neither extension says otherwise.
 */
function isCertificateAuthority(
  certificate: ParsedCertificate | null,
  command: CommandCertificate | null,
): boolean {
  if (certificate !== null) {
    const usage = certificate.keyUsage;
    if (usage !== null && usage.includes('keyCertSign')) return true;
    if (certificate.basicConstraints.cA && usage === null && certificate.extendedKeyUsage === null)
      return true;
  }
  const state = command?.CertState;
  return state === CertState.CertificateAuthority || state === CertState.ParentCertificateAuthority;
}

function ruleFailure(rule: Rule, error: unknown): RuleOutcome {
  // Visible rather than silent: a rule that throws must not hide the certificate or stop the scan.
  return {
    severity: 'info',
    message: `Rule ${rule.id} failed on this certificate (${error instanceof Error ? error.message : String(error)}); its condition was not assessed.`,
  };
}

function runRules(
  prepared: PreparedContext,
  subject: RuleSubject,
): { results: RuleResult[]; highest: HighestSeverity } {
  const results: RuleResult[] = [];
  let highest: HighestSeverity = 'none';
  let highestRank = 0;
  const record = (rule: Rule, outcome: RuleOutcome | null): void => {
    if (outcome === null) return;
    results.push({
      id: rule.id,
      severity: outcome.severity,
      title: rule.title,
      message: outcome.message,
      remediation: rule.remediation,
    });
    const rank = severityRank(outcome.severity);
    if (rank > highestRank) {
      highestRank = rank;
      highest = outcome.severity;
    }
  };
  for (const rule of prepared.inventoryRules) {
    let outcome: RuleOutcome | null;
    try {
      outcome = rule.evaluate(subject);
    } catch (error) {
      outcome = ruleFailure(rule, error);
    }
    record(rule, outcome);
  }
  const certificate = subject.certificate;
  if (certificate !== null) {
    for (const rule of prepared.certificateRules) {
      let outcome: RuleOutcome | null;
      try {
        outcome = rule.evaluate(certificate, subject);
      } catch (error) {
        outcome = ruleFailure(rule, error);
      }
      record(rule, outcome);
    }
  }
  return { results, highest };
}

function nonEmpty(value: string | null | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function objectName(
  certificate: ParsedCertificate | null,
  command: CommandCertificate | null,
  filePath: string | undefined,
  id: string,
): string {
  if (certificate !== null) {
    const name =
      nonEmpty(certificate.commonName) ??
      nonEmpty(certificate.subjectAltNames?.[0]?.value) ??
      nonEmpty(certificate.subject.rfc4514);
    if (name !== null) return name;
  }
  if (command !== null) {
    const name = nonEmpty(command.IssuedCN) ?? nonEmpty(command.IssuedDN);
    if (name !== null) return name;
  }
  return nonEmpty(filePath) ?? `certificate ${id.slice(0, 16)}`;
}

interface Inputs {
  certificate: ParsedCertificate | null;
  parseError: CertificateParseError | null;
  command: CommandCertificate | null;
  id: string;
  source: SourceInfo;
}

function buildFinding(prepared: PreparedContext, inputs: Inputs): Finding {
  const { certificate, parseError, command } = inputs;
  const pqc = certificate === null ? null : assessPublicKey(certificate.publicKey);
  const subject: RuleSubject = {
    certificate,
    parseError,
    command,
    nowMs: prepared.nowMs,
    expiringWithinDays: prepared.expiringWithinDays,
    notBeforeMs: certificate === null ? Number.NaN : Date.parse(certificate.notBefore),
    notAfterMs: certificate === null ? Number.NaN : Date.parse(certificate.notAfter),
    pqc,
    isCa: isCertificateAuthority(certificate, command),
    deployedCount: command === null ? 0 : deployedCount(command),
  };
  const { results, highest } = runRules(prepared, subject);
  const keyfactor = command === null ? null : keyfactorSection(command);
  const x509: X509Section = certificate === null ? { keyfactor } : x509Section(certificate, keyfactor);
  const finding: Finding = {
    '@timestamp': prepared.timestamp,
    version: FINDING_DOCUMENT_VERSION,
    id: inputs.id,
    object: { type: 'certificate', name: objectName(certificate, command, prepared.file?.path, inputs.id) },
    observation:
      prepared.file === undefined
        ? { sensor: prepared.sensor, source: inputs.source }
        : { sensor: prepared.sensor, source: inputs.source, file: prepared.file },
    crypto: { x509 },
    analysis:
      parseError === null
        ? { status: 'analysed', highest_severity: highest, pqc, rules: results }
        : {
            status: 'parse-error',
            parse_error: {
              reason: parseError.reason,
              message: parseError.message,
              offset: parseError.offset,
            },
            highest_severity: highest,
            pqc: null,
            rules: results,
          },
    labels: prepared.labels,
    custom: {},
  };
  return finding;
}

/** The finding for a bug in the engine itself: the certificate still counts, with what Command says about it. */
function internalErrorFinding(prepared: PreparedContext, inputs: Inputs, error: unknown): Finding {
  let keyfactor: KeyfactorSection | null = null;
  try {
    keyfactor = inputs.command === null ? null : keyfactorSection(inputs.command);
  } catch {
    // The Command object itself is what broke the build; the id and the error are all there is left to report.
  }
  const parseError = asParseError(error);
  return {
    '@timestamp': prepared.timestamp,
    version: FINDING_DOCUMENT_VERSION,
    id: inputs.id,
    object: { type: 'certificate', name: `certificate ${inputs.id.slice(0, 16)}` },
    observation: { sensor: prepared.sensor, source: inputs.source },
    crypto: { x509: { keyfactor } },
    analysis: {
      status: 'parse-error',
      parse_error: { reason: 'internal-error', message: parseError.message, offset: null },
      highest_severity: 'none',
      pqc: null,
      rules: [],
    },
    labels: prepared.labels,
    custom: {},
  };
}

function sha256Hex(data: Uint8Array | string): string {
  return hash('sha256', data, 'hex');
}

/**
 * The finding for one certificate as Command returns it. ContentBytes that are not base64 DER of exactly one
 * certificate give analysis.status 'parse-error' (with the reason), never an exception: the certificate still counts,
 * with Command's attributes and the rules that need only those (revocation). Throws InputError only for a context no
 * run could use (see prepareContext).
 */
export function analyseCertificate(input: CommandCertificate, context: AnalysisContext): Finding {
  const prepared = prepareContext(context);
  const content: unknown = input.ContentBytes;
  let decoded: Decoded;
  if (typeof content === 'string' && content !== '') decoded = decodeContent(content);
  else
    decoded = {
      der: null,
      error: new CertificateParseError('empty-input', null, 'ContentBytes is empty or missing'),
    };
  const parsed = decoded.der === null ? null : tryParseCertificate(decoded.der);
  const certificate = parsed !== null && parsed.ok ? parsed.certificate : null;
  const parseError = parsed === null ? decoded.error : parsed.ok ? null : parsed.error;
  // Identity: the DER's SHA-256 whenever there is DER; undecodable content is identified by its text instead.
  const id =
    certificate !== null
      ? certificate.sha256
      : decoded.der !== null
        ? sha256Hex(decoded.der)
        : sha256Hex(typeof content === 'string' ? content : '');
  const certificateId = typeof input.Id === 'number' ? input.Id : null;
  const inputs: Inputs = {
    certificate,
    parseError,
    command: input,
    id,
    source: { type: 'keyfactor-command', url: prepared.sourceUrl, certificate_id: certificateId },
  };
  try {
    return buildFinding(prepared, inputs);
  } catch (error) {
    return internalErrorFinding(prepared, inputs, error);
  }
}

/**
 * The finding for DER bytes from a file (`kfsensor inspect`): no Command attributes, source type 'file'. Malformed
 * bytes give a 'parse-error' finding identified by the SHA-256 of the bytes.
 */
export function analyseDer(der: Uint8Array, context: AnalysisContext): Finding {
  const prepared = prepareContext(context);
  const parsed = tryParseCertificate(der);
  const inputs: Inputs = {
    certificate: parsed.ok ? parsed.certificate : null,
    parseError: parsed.ok ? null : parsed.error,
    command: null,
    id: parsed.ok ? parsed.certificate.sha256 : sha256Hex(der),
    source: { type: 'file', url: prepared.sourceUrl, certificate_id: null },
  };
  try {
    return buildFinding(prepared, inputs);
  } catch (error) {
    return internalErrorFinding(prepared, inputs, error);
  }
}
