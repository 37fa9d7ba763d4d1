/** `node:crypto` in the browser bundle: random bytes (the atomic writer's temporary names) from Web Crypto. */

/** `size` random bytes. */
export function randomBytes(size: number): Uint8Array & { toString(encoding?: string): string } {
  const bytes = crypto.getRandomValues(new Uint8Array(size));
  return Object.assign(bytes, { toString: () => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") });
}
