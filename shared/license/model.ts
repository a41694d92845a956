// Licensing domain: the signed license, its features, the actioned-certificate counts and the alerts (issue 7).
// Contracts shared by shared/license/*, the API routes, the adapters and the daily job; no AWS imports.

/** What a license can enable. The API and the remote CLI check these (see gates in shared/license/gates.ts). */
export const LICENSE_FEATURES = [
  'api-scans',
  'scheduled-scans',
  'remote-scan',
  'kerberos',
  'cbom-export',
  'actioned-certificates',
] as const;
export type LicenseFeature = (typeof LICENSE_FEATURES)[number];

/** The actioned-certificate allowance: a number, or Site-License (unlimited; counts show as N/A). */
export type ActionedAllowance = { type: 'Limited'; allowance: number } | { type: 'Site-License' };

/** The license's content: exactly what the vendor signs. */
export interface LicenseDocument {
  /** Format marker so a future format is refused clearly rather than misread. */
  format: 'kfsensor-license/1';
  licenseId: string;
  licensee: string;
  /** The deployment this license is for (GET /v3/license shows the instance's id even without a license). */
  instanceId: string;
  /** ISO 8601 instants. */
  issuedAt: string;
  expiresAt: string;
  features: LicenseFeature[];
  actionedCertificates: ActionedAllowance;
}

export type LicenseSignatureAlgorithm = 'Ed25519' | 'RSA-PSS-SHA256';

/**
 * The license file: JSON `{ license, signature }`. The signature covers canonicalJson(license) (sorted keys, UTF-8),
 * so re-serialising the file never breaks it, while any change to a value does.
 */
export interface SignedLicense {
  license: LicenseDocument;
  signature: {
    algorithm: LicenseSignatureAlgorithm;
    /** Which vendor key signed: SHA-256 of the public key's SPKI DER, hex, first 16 chars. */
    keyId: string;
    /** base64 */
    value: string;
  };
}

/** Why a license was refused; `message` says what to do about it. */
export type LicenseRejectionReason =
  'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'wrong-instance';

export type LicenseVerification =
  | { valid: true; license: LicenseDocument; signedBy: string; daysToExpiry: number }
  | { valid: false; reason: LicenseRejectionReason; message: string; license: LicenseDocument | null };

/** The installed license as stored: the file text as received (re-verified on every load) and when it was installed. */
export interface InstalledLicense {
  text: string;
  installedAt: string;
  installedBy: string | null;
}

/** The seven categories of the seed, in its order. */
export const ACTIONED_CATEGORIES = [
  'requested',
  'revokedLastWeek',
  'metadata',
  'sslEndpoint',
  'certificateStore',
  'privateKey',
  'alertOrWorkflowCollection',
] as const;
export type ActionedCategory = (typeof ACTIONED_CATEGORIES)[number];

/** One run of the actioned-certificate count. */
export interface ActionedRun {
  runId: string;
  /** 'schedule' (the daily job) or 'manual' (an Administrator asked). */
  trigger: 'schedule' | 'manual';
  startedAt: string;
  finishedAt: string;
  /** Distinct certificates in one or more categories (counted once). */
  total: number;
  /** Per category; a certificate in two categories counts in both here and once in `total`. */
  categories: Record<ActionedCategory, number>;
  /** Certificates examined (open findings across sensors, deduplicated by finding id). */
  examined: number;
  /** Sensors (Command instances + filters) whose inventory was counted. */
  sensors: number;
  /** The allowance at the time; null when Site-License or no license. */
  allowance: number | null;
  overLimit: boolean;
  /** Problems that did not stop the count (e.g. a collection query that does not parse), human-readable. */
  warnings: string[];
}

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertKind = 'license-expiry' | 'license-expired' | 'actioned-over-limit';

export interface Alert {
  /** Deterministic per condition (e.g. `license-expiry:<licenseId>:14`) so a condition raises one alert, not one a day. */
  alertId: string;
  kind: AlertKind;
  severity: AlertSeverity;
  message: string;
  createdAt: string;
  details: Record<string, unknown>;
}

/**
 * What Command tells about a sensor's certificates beyond the certificates themselves, captured by the collector at
 * each scan (it holds the credentials; the daily job does not): collections, expiration alerts, workflow definitions.
 * Objects are kept in Command's shape (PascalCase), only the fields listed.
 */
export interface CommandContextSnapshot {
  sensorKey: string;
  url: string;
  capturedAt: string;
  scanId: string;
  collections: Array<{ Id: number; Name: string; Content: string }>;
  expirationAlerts: Array<{
    Id: number;
    DisplayName: string;
    CertificateQuery: { Id: number; Name: string } | null;
  }>;
  workflowDefinitions: Array<{ Id: string; DisplayName: string; Key: string; WorkflowType: string }>;
  /**
   * Set when Command's lists could not be read at this scan (e.g. HTTP 403) and no earlier snapshot existed: the lists
   * are empty, so the sensor's certificates still count in categories 1-6 and the count warns about category 7.
   */
  captureError?: string;
}
