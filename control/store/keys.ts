import type { JsonObject } from './types.js';

/**
 * The smallest string greater than every string that starts with `prefix`, for half-open range
 * scans (`key >= prefix AND key < end`). Keys are compared as UTF-8 bytes by both SQLite and
 * etcd; bumping the last UTF-16 unit keeps that order for every non-surrogate character.
 */
export function prefixEnd(prefix: string): string {
  if (prefix === '') throw new Error('store: prefix must not be empty');
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last >= 0xd800 && last <= 0xdfff) {
    throw new Error(`store: prefix ${JSON.stringify(prefix)} must not end in a surrogate character`);
  }
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

export function checkKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new Error('store: key must be a non-empty string');
}

export function checkPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || prefix === '') {
    throw new Error('store: prefix must be a non-empty string');
  }
}

export function checkRevision(what: string, revision: number): void {
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new Error(`store: ${what} must be a non-negative integer, got ${String(revision)}`);
  }
}

export function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit <= 0)) {
    throw new Error(`store: list limit must be a positive integer, got ${String(limit)}`);
  }
}

/** A copy of `value` whose `metadata.resourceVersion` is `String(revision)`. */
export function withResourceVersion(key: string, value: JsonObject, revision: number): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`store: value for ${key} must be a JSON object`);
  }
  const metadata = value['metadata'];
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  ) {
    throw new Error(`store: value for ${key} has a metadata field that is not an object`);
  }
  return {
    ...value,
    metadata: { ...(metadata as JsonObject | undefined), resourceVersion: String(revision) },
  };
}

/** A copy of `value` without `metadata.resourceVersion`, which the store derives on read. */
export function withoutResourceVersion(key: string, value: JsonObject): JsonObject {
  const stamped = withResourceVersion(key, value, 0);
  const metadata = { ...(stamped['metadata'] as JsonObject) };
  delete metadata['resourceVersion'];
  return { ...stamped, metadata };
}
