// Certificate JSON as Command sends it, cached per certificate so a page of 1,000 is a join of ready strings.
import type { CommandCertificate } from '#shared/keyfactor/model';

export interface IncludeFlags {
  includeLocations: boolean;
  includeMetadata: boolean;
  includeHasPrivateKey: boolean;
}

/**
 * The JSON of one certificate, split at the fields the include flags change. Every include-flag variant is the
 * head plus either the stored piece or the empty value, so one entry serves all eight variants.
 */
interface SerializedCertificate {
  /** Every other field, as `{...` without the closing brace; PrincipalId forced to null. */
  head: string;
  locations: string;
  locationsCount: string;
  metadata: string;
  hasPrivateKey: boolean;
}

// Keyed by object identity: the inventory replaces objects on mutation, so an edit can never serve stale JSON.
const serializedCache = new WeakMap<CommandCertificate, SerializedCertificate>();

function serialize(cert: CommandCertificate): SerializedCertificate {
  const { Locations, LocationsCount, Metadata, HasPrivateKey, ...rest } = cert;
  // go-client v3 declares PrincipalId a string, so a number breaks its decoding; null is what every client accepts.
  const head = JSON.stringify({ ...rest, PrincipalId: null });
  return {
    head: head.slice(0, -1),
    locations: JSON.stringify(Locations ?? []),
    locationsCount: JSON.stringify(LocationsCount ?? []),
    metadata: JSON.stringify(Metadata ?? {}),
    hasPrivateKey: HasPrivateKey === true,
  };
}

function serializedOf(cert: CommandCertificate): SerializedCertificate {
  let serialized = serializedCache.get(cert);
  if (!serialized) {
    serialized = serialize(cert);
    serializedCache.set(cert, serialized);
  }
  return serialized;
}

/** Serializes ahead of the first request, so a first pass through the pages is as fast as later ones. */
export function warmCertificateJson(cert: CommandCertificate): void {
  serializedOf(cert);
}

/**
 * One certificate's JSON. Per the reference, excluded parts stay present but empty: Locations and LocationsCount
 * `[]`, Metadata `{}`, HasPrivateKey `false`.
 */
export function certificateJson(cert: CommandCertificate, include: IncludeFlags): string {
  const s = serializedOf(cert);
  return (
    s.head +
    ',"Locations":' +
    (include.includeLocations ? s.locations : '[]') +
    ',"LocationsCount":' +
    (include.includeLocations ? s.locationsCount : '[]') +
    ',"Metadata":' +
    (include.includeMetadata ? s.metadata : '{}') +
    ',"HasPrivateKey":' +
    (include.includeHasPrivateKey && s.hasPrivateKey ? 'true' : 'false') +
    '}'
  );
}

export function certificateArrayJson(certs: readonly CommandCertificate[], include: IncludeFlags): string {
  const parts = new Array<string>(certs.length);
  for (let i = 0; i < certs.length; i++) parts[i] = certificateJson(certs[i]!, include);
  return '[' + parts.join(',') + ']';
}
