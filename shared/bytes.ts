// Byte helpers shared by the export client, tests and benches.

/**
 * The same bytes (no copy) typed as an ArrayBuffer-backed view. fetch's BodyInit and @peculiar/x509's BufferSource
 * want that type once the DOM lib is in the program (@xmldom/xmldom's types reference it); Node's Buffers are
 * always ArrayBuffer-backed here, never SharedArrayBuffer.
 */
export function arrayBufferView(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
}
