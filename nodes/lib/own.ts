/**
 * Lookups by a name the user chose (profile, point, device, CSV header): only the object's own
 * properties count, so `constructor` or `__proto__` are names like any other, not inherited members.
 */
export function own<T>(obj: Readonly<Record<string, T>> | null | undefined, key: string): T | undefined {
  return obj != null && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

export function hasOwn(obj: object | null | undefined, key: string): boolean {
  return obj != null && Object.prototype.hasOwnProperty.call(obj, key);
}
