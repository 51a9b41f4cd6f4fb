// Go %#v renderings that appear inside Kubernetes error messages.

/** []string{"a", "b"} — how Go prints a string slice with %#v (nil prints as []string(nil)). */
export function goStringSlice(values: readonly string[] | null | undefined): string {
  if (values == null) return '[]string(nil)';
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}
