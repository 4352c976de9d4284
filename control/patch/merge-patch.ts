/** JSON merge patch (RFC 7386), `application/merge-patch+json`. */
import type { JsonObject } from '../store/types.js';
import { PatchError } from './errors.js';
import { clone, isObject } from './json.js';

export function applyJsonMergePatch(target: JsonObject, patch: unknown): JsonObject {
  if (!isObject(patch)) {
    throw new PatchError(400, 'invalid JSON merge patch: the patch must be a JSON object');
  }
  return mergeValue(clone(target), patch) as JsonObject;
}

/** RFC 7386 MergePatch: objects merge recursively, null removes, everything else replaces. */
function mergeValue(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergeValue(result[key], value);
  }
  return result;
}
