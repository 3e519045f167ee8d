/**
 * PostgreSQL `text` and `jsonb` cannot hold U+0000. What the platform received is kept as bytes
 * (`bytea`); what it derives from a value for its own columns goes through here.
 */

/** Whether a string anywhere in a JSON-like value (keys included) holds a NUL. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === 'object')
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(child);
      }
  }
  return false;
}

/** A string fit for a text column: each NUL written as the six characters `\u0000`. */
export const escapeNul = (s: string): string => s.replaceAll('\u0000', '\\u0000');

/** JSON text fit for a jsonb column: NULs in string values (and keys) escaped as `escapeNul` does. */
export const jsonWithoutNul = (value: unknown): string =>
  JSON.stringify(value, function (this: unknown, _k, v: unknown) {
    if (typeof v === 'string') return escapeNul(v);
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => k.includes('\u0000')))
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeNul(k), x]));
    return v;
  });
