/** `node:buffer` in the browser bundle: the three static helpers the safetensors code uses, on Uint8Array. */
const encoder = new TextEncoder();

/** UTF-8 bytes as a Uint8Array (the engine uses Buffer only for lengths, keys and byte order). */
export class Buffer {
  /** Bytes of `text` in UTF-8. */
  static byteLength(text: string): number {
    return encoder.encode(text).length;
  }

  /** The UTF-8 bytes of `text`. */
  static from(text: string): Uint8Array {
    return encoder.encode(text);
  }

  /** Byte-wise order of two arrays: −1, 0 or 1 (as Node's Buffer.compare). */
  static compare(a: Uint8Array, b: Uint8Array): number {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
}
