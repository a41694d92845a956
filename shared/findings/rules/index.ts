// The default rule set, in report order: adding a rule is one module plus one line here (and its tests).
import type { Rule } from '../rule';
import {
  finiteFieldKey,
  shortRsaKey,
  unrecognisedKeyAlgorithm,
  unusualRsaExponent,
  weakEllipticCurve,
} from './keys';
import { unreadableCertificate } from './parse';
import { quantumVulnerableKey } from './quantum';
import { revoked } from './revocation';
import { weakSignatureHash } from './signature';
import {
  caWithoutCriticalBasicConstraints,
  extensionsBeforeV3,
  serialNumberOutOfRange,
  signatureAlgorithmMismatch,
  validityInverted,
} from './structure';
import { selfSignedLeaf, tlsServerWithoutSan, wildcardName } from './usage';
import { expired, expiringSoon, notYetValid, tlsValidityTooLong } from './validity';

export const DEFAULT_RULES: readonly Rule[] = Object.freeze([
  unreadableCertificate,
  revoked,
  quantumVulnerableKey,
  shortRsaKey,
  weakEllipticCurve,
  finiteFieldKey,
  unusualRsaExponent,
  unrecognisedKeyAlgorithm,
  weakSignatureHash,
  expired,
  expiringSoon,
  notYetValid,
  tlsValidityTooLong,
  selfSignedLeaf,
  tlsServerWithoutSan,
  wildcardName,
  serialNumberOutOfRange,
  extensionsBeforeV3,
  caWithoutCriticalBasicConstraints,
  signatureAlgorithmMismatch,
  validityInverted,
]);

export { revocationReason } from './revocation';
export {
  caWithoutCriticalBasicConstraints,
  expired,
  expiringSoon,
  extensionsBeforeV3,
  finiteFieldKey,
  notYetValid,
  quantumVulnerableKey,
  revoked,
  selfSignedLeaf,
  serialNumberOutOfRange,
  shortRsaKey,
  signatureAlgorithmMismatch,
  tlsServerWithoutSan,
  tlsValidityTooLong,
  unreadableCertificate,
  unrecognisedKeyAlgorithm,
  unusualRsaExponent,
  validityInverted,
  weakEllipticCurve,
  weakSignatureHash,
  wildcardName,
};
