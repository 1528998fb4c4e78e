// Binary content inside tool output (DESIGN §7: tool output is data; binary never reaches the model).
// Pure: recognises a base64 string that decodes to a known file type by its magic number, or a
// base64 data: URL (its declared type); measures PNG images from their IHDR chunk. An unrecognised
// base64-looking string stays text (it may be an id, a hash, or just letters): the byte budget of a
// tool result bounds what it costs the model.
export interface BinaryInfo {
  mediaType: string;
  bytes: Buffer;
  width?: number;
  height?: number;
}

const MAGIC: readonly [string, string][] = [
  ['image/png', '89504e470d0a1a0a'],
  ['image/jpeg', 'ffd8ff'],
  ['image/gif', '47494638'],
  ['application/pdf', '25504446'],
  ['application/zip', '504b0304'],
  ['application/gzip', '1f8b'],
];
const MIN_BASE64_CHARS = 64;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const DATA_URL_RE = /^data:([\w.+-]+\/[\w.+-]+);base64,/;

/** PNG dimensions from its IHDR chunk, or null when the bytes are not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } | null {
  if (bytes.length < 24 || bytes.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** The binary a string carries, or null when it is text. */
export function binaryOf(value: string): BinaryInfo | null {
  const dataUrl = DATA_URL_RE.exec(value);
  const text = dataUrl ? value.slice(dataUrl[0].length) : value;
  if (text.length < MIN_BASE64_CHARS || text.length % 4 !== 0 || !BASE64_RE.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  const head = bytes.subarray(0, 8).toString('hex');
  const known = MAGIC.find(([, magic]) => head.startsWith(magic))?.[0];
  const mediaType = known ?? dataUrl?.[1];
  if (!mediaType) return null;
  const size = mediaType === 'image/png' ? pngSize(bytes) : null;
  return { mediaType, bytes, ...(size ?? {}) };
}

/** What the model reads instead of the bytes. */
export function describeBinary(info: BinaryInfo, artifactNo: number): string {
  const size = info.width && info.height ? ` ${info.width}×${info.height}` : '';
  return `[binary ${info.mediaType}${size}, ${info.bytes.length} bytes: not shown to you; kept as artifact ${artifactNo} of the final answer]`;
}
