// Key-range helpers shared by store backends.

/**
 * The smallest string that sorts after every string starting with `prefix`, in code-point order
 * (which is the byte order of UTF-8, so also SQLite's BINARY collation). `undefined` when no such
 * bound exists (the empty prefix): the range is open-ended. Prefix scans use
 * `key >= prefix AND key < prefixEnd(prefix)`, an index range scan, rather than LIKE.
 */
export function prefixEnd(prefix: string): string | undefined {
  const codePoints = Array.from(prefix);
  while (codePoints.length > 0) {
    const last = codePoints.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // Surrogate code points cannot appear in well-formed strings; step over them.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      codePoints.push(String.fromCodePoint(next));
      return codePoints.join('');
    }
  }
  return undefined;
}
