/**
 * Whether a value is a non-null object (arrays included). Public entry points are typed, but
 * JavaScript callers pass anything: this checks what arrived, whatever its declared type.
 */
export function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
