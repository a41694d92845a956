// Ports the licensing core depends on: memory adapters (shared/adapters/memory/license-stores.ts) and DynamoDB ones
// (shared/adapters/aws/license-stores.ts) implement them; one contract suite runs against both.
import type { ActionedRun, Alert, CommandContextSnapshot, InstalledLicense } from './model.ts';

export interface LicenseStore {
  getInstalled(): Promise<InstalledLicense | null>;
  /** Replaces the installed license (the caller verified it first). */
  putInstalled(license: InstalledLicense): Promise<void>;
}

export interface ActionedRunStore {
  putRun(run: ActionedRun): Promise<void>;
  /** Newest first, at most `limit`. */
  listRuns(limit: number): Promise<ActionedRun[]>;
}

export interface AlertStore {
  /** Stores the alert unless one with its id exists; true when it was new (only new alerts are published). */
  raise(alert: Alert): Promise<boolean>;
  /** Newest first, at most `limit`. */
  list(limit: number): Promise<Alert[]>;
}

export interface CommandContextStore {
  /** Replaces the sensor's snapshot. */
  putContext(snapshot: CommandContextSnapshot): Promise<void>;
  /** Every sensor's latest snapshot: the daily job counts these sensors' findings. */
  listContexts(): Promise<CommandContextSnapshot[]>;
}

/** The instance's own signing key for the usage log (Secrets Manager in the cloud, created at deploy). */
export interface InstanceKeySource {
  /** PEM (PKCS#8 private key, SPKI public key), RSA: XML-DSig through xml-crypto signs with RSA-SHA256. */
  getKeyPair(): Promise<{ privateKeyPem: string; publicKeyPem: string }>;
}

/** Publishes alerts for whoever listens (EventBridge in the cloud). */
export interface AlertPublisher {
  publishAlert(alert: Alert): Promise<void>;
}
