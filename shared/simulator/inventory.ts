// The simulator's in-memory certificate store: Id-ordered, versioned, with an injectable clock.
// Stored objects are never modified in place: every mutation swaps in a new object, so caches keyed by object
// identity (serialized JSON, sort keys) can never serve a stale value.
import { z } from 'zod';
import { InputError } from '#shared/errors';
import type { CommandCertificate, StoreLocation } from '#shared/keyfactor/model';
import { CERT_STATE_NAMES, CertState, CommandCertificateSchema } from '#shared/keyfactor/model';
import { STORE_TYPES } from './generator/catalog';

/** An Id the inventory does not hold; the HTTP layers turn it into a 404. */
export class UnknownCertificateError extends InputError {
  constructor(readonly certificateId: number) {
    super(`Certificate with ID ${certificateId} could not be found.`);
  }
}

/** A certificate to be imported: the inventory assigns Id and ImportDate like Command does on import. */
export const NewCertificateSchema = CommandCertificateSchema.extend({
  Id: z.number().int().optional(),
  ImportDate: z.string().optional(),
});
export type NewCertificate = z.infer<typeof NewCertificateSchema>;

export interface RevocationDetails {
  date?: Date;
  /** RFC 5280 reason code as Command stores it (0 unspecified, 1 key compromise, ...). */
  reason?: number;
  comment?: string | null;
}

export interface SimulatorInventoryOptions {
  certificates?: Iterable<CommandCertificate>;
  now?: () => Date;
}

/** Command writes timestamps in UTC with a Z; whole seconds for revocation like NotBefore/NotAfter. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function locationsCountOf(
  locations: readonly StoreLocation[],
): Array<{ Type: string; Count: number }> {
  const counts = new Map<string, number>();
  for (const location of locations) {
    // The generator's store-type catalog is the simulator's single source of store-type names.
    const type =
      location.StoreType == null
        ? 'Unknown'
        : (STORE_TYPES.find((t) => t.id === location.StoreType)?.shortName ?? String(location.StoreType));
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return [...counts].map(([Type, Count]) => ({ Type, Count }));
}

export class SimulatorInventory {
  readonly now: () => Date;
  private readonly byId = new Map<number, CommandCertificate>();
  private ordered: CommandCertificate[] | null = [];
  private mutations = 0;
  private highestId = 0;

  constructor(options: SimulatorInventoryOptions = {}) {
    this.now = options.now ?? (() => new Date());
    if (options.certificates) this.add(options.certificates);
  }

  /** Bumped by every mutation; result caches key on it. */
  get version(): number {
    return this.mutations;
  }

  get size(): number {
    return this.byId.size;
  }

  /** All certificates in ascending Id order. The array is shared and must not be modified. */
  list(): readonly CommandCertificate[] {
    if (this.ordered === null) {
      this.ordered = [...this.byId.values()].sort((a, b) => a.Id - b.Id);
    }
    return this.ordered;
  }

  get(id: number): CommandCertificate | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** Adds certificates keeping their Ids (a loaded dataset). A duplicate Id is an error, not an overwrite. */
  add(certificates: Iterable<CommandCertificate>): void {
    const incoming = [...certificates];
    const seen = new Set<number>();
    for (const cert of incoming) {
      if (this.byId.has(cert.Id) || seen.has(cert.Id)) {
        throw new InputError(`inventory: certificate Id ${cert.Id} already exists`);
      }
      seen.add(cert.Id);
    }
    if (incoming.length === 0) return;
    // Appending in order keeps the Id-ordered list valid without a re-sort, the common case for datasets.
    const appendable =
      this.ordered !== null &&
      incoming.every((c, i) => c.Id > (i === 0 ? this.highestId : incoming[i - 1]!.Id));
    for (const cert of incoming) {
      const copy = { ...cert };
      this.byId.set(copy.Id, copy);
      if (appendable) this.ordered!.push(copy);
      if (copy.Id > this.highestId) this.highestId = copy.Id;
    }
    if (!appendable) this.ordered = null;
    this.mutations++;
  }

  /** Imports certificates as Command would: next Ids after the highest ever seen, ImportDate = now. */
  addNew(partials: Iterable<NewCertificate>): CommandCertificate[] {
    const importDate = this.now().toISOString();
    const created = [...partials].map((partial, index): CommandCertificate => ({
      ...partial,
      Id: this.highestId + index + 1,
      ImportDate: importDate,
    }));
    this.add(created);
    return created.map((c) => this.byId.get(c.Id)!);
  }

  /** Merges a metadata patch; a null value removes the field, as clearing it in the portal does. */
  updateMetadata(id: number, patch: Readonly<Record<string, string | null>>): CommandCertificate {
    return this.replace(id, (cert) => {
      const metadata: Record<string, string | null> = { ...cert.Metadata };
      for (const [name, value] of Object.entries(patch)) {
        if (value === null) delete metadata[name];
        else metadata[name] = value;
      }
      return { ...cert, Metadata: metadata };
    });
  }

  /** Replaces the store locations and recomputes LocationsCount so the two never disagree. */
  setLocations(id: number, locations: readonly StoreLocation[]): CommandCertificate {
    return this.replace(id, (cert) => ({
      ...cert,
      Locations: locations.map((l) => ({ ...l })),
      LocationsCount: locationsCountOf(locations),
    }));
  }

  revoke(id: number, details: RevocationDetails = {}): CommandCertificate {
    const date = details.date ?? this.now();
    return this.replace(id, (cert) => ({
      ...cert,
      CertState: CertState.Revoked,
      CertStateString: `${CERT_STATE_NAMES[CertState.Revoked]} (${CertState.Revoked})`,
      RevocationEffDate: isoSeconds(date),
      RevocationReason: details.reason ?? 0,
      RevocationComment: details.comment ?? null,
    }));
  }

  /** Returns whether the certificate existed. */
  delete(id: number): boolean {
    const existed = this.byId.delete(id);
    if (existed) {
      this.ordered = null;
      this.mutations++;
    }
    return existed;
  }

  private replace(id: number, change: (cert: CommandCertificate) => CommandCertificate): CommandCertificate {
    const current = this.byId.get(id);
    if (!current) throw new UnknownCertificateError(id);
    const next = change(current);
    this.byId.set(id, next);
    if (this.ordered !== null) {
      const index = binarySearchById(this.ordered, id);
      if (index >= 0) this.ordered[index] = next;
      else this.ordered = null;
    }
    this.mutations++;
    return next;
  }
}

function binarySearchById(sorted: readonly CommandCertificate[], id: number): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const midId = sorted[mid]!.Id;
    if (midId === id) return mid;
    if (midId < id) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}
