// Certificate JSON as Command sends it, cached per certificate as UTF-8 pieces so a page of 1,000 is one copy
// of ready bytes (Buffer.concat) rather than a re-serialization or a string join.
import type { CommandCertificate } from '#shared/keyfactor/model';

export interface IncludeFlags {
  includeLocations: boolean;
  includeMetadata: boolean;
  includeHasPrivateKey: boolean;
}

/**
 * The JSON of one certificate, split at the fields the include flags change. Each include-flag variant is the
 * head plus either the stored piece or its empty value, so one entry serves all eight variants at 1x memory.
 */
interface SerializedCertificate {
  /** Every other field, as `{...` without the closing brace; PrincipalId forced to null. */
  head: Buffer;
  locations: Buffer;
  locationsCount: Buffer;
  metadata: Buffer;
  hasPrivateKey: boolean;
}

const LOCATIONS_KEY = Buffer.from(',"Locations":');
const LOCATIONS_COUNT_KEY = Buffer.from(',"LocationsCount":');
const METADATA_KEY = Buffer.from(',"Metadata":');
const PRIVATE_KEY_TRUE = Buffer.from(',"HasPrivateKey":true}');
const PRIVATE_KEY_FALSE = Buffer.from(',"HasPrivateKey":false}');
const EMPTY_ARRAY = Buffer.from('[]');
const EMPTY_OBJECT = Buffer.from('{}');
const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

// Keyed by object identity: the inventory replaces objects on mutation, so an edit can never serve stale JSON.
const serializedCache = new WeakMap<CommandCertificate, SerializedCertificate>();

function serialize(cert: CommandCertificate): SerializedCertificate {
  const { Locations, LocationsCount, Metadata, HasPrivateKey, ...rest } = cert;
  // go-client v3 declares PrincipalId a string, so a number breaks its decoding; null is what every client accepts.
  const head = JSON.stringify({ ...rest, PrincipalId: null });
  return {
    head: Buffer.from(head.slice(0, -1)),
    locations: Buffer.from(JSON.stringify(Locations ?? [])),
    locationsCount: Buffer.from(JSON.stringify(LocationsCount ?? [])),
    metadata: Buffer.from(JSON.stringify(Metadata ?? {})),
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
 * Appends one certificate's pieces; returns their byte count. Per the reference, excluded parts stay present
 * but empty: Locations and LocationsCount `[]`, Metadata `{}`, HasPrivateKey `false`.
 */
function appendCertificate(pieces: Buffer[], cert: CommandCertificate, include: IncludeFlags): number {
  const s = serializedOf(cert);
  const locations = include.includeLocations ? s.locations : EMPTY_ARRAY;
  const locationsCount = include.includeLocations ? s.locationsCount : EMPTY_ARRAY;
  const metadata = include.includeMetadata ? s.metadata : EMPTY_OBJECT;
  const privateKey = include.includeHasPrivateKey && s.hasPrivateKey ? PRIVATE_KEY_TRUE : PRIVATE_KEY_FALSE;
  pieces.push(
    s.head,
    LOCATIONS_KEY,
    locations,
    LOCATIONS_COUNT_KEY,
    locationsCount,
    METADATA_KEY,
    metadata,
    privateKey,
  );
  return (
    s.head.length +
    LOCATIONS_KEY.length +
    locations.length +
    LOCATIONS_COUNT_KEY.length +
    locationsCount.length +
    METADATA_KEY.length +
    metadata.length +
    privateKey.length
  );
}

export function certificateJsonBytes(cert: CommandCertificate, include: IncludeFlags): Buffer {
  const pieces: Buffer[] = [];
  const size = appendCertificate(pieces, cert, include);
  return Buffer.concat(pieces, size);
}

export function certificateJson(cert: CommandCertificate, include: IncludeFlags): string {
  return certificateJsonBytes(cert, include).toString('utf8');
}

/** A page as one JSON array. */
export function certificateArrayBytes(certs: readonly CommandCertificate[], include: IncludeFlags): Buffer {
  const pieces: Buffer[] = [OPEN];
  let size = OPEN.length + CLOSE.length;
  for (let i = 0; i < certs.length; i++) {
    if (i > 0) {
      pieces.push(COMMA);
      size += COMMA.length;
    }
    size += appendCertificate(pieces, certs[i]!, include);
  }
  pieces.push(CLOSE);
  return Buffer.concat(pieces, size);
}
