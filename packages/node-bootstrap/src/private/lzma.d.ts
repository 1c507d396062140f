/** The `lzma` package (pure JavaScript, no types of its own): the synchronous compressor only. */
declare module 'lzma' {
  /** LZMA "alone" (.lzma) bytes as signed values (-128..127); mode 1-9 picks dictionary and match finder. */
  export function compress(data: string | Uint8Array, mode: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9): number[];
}
