import type { JsonObject } from '../store/types.js';
import type { ResourceInfo } from '../resources.js';
import { checkAgainstSchema } from './check.js';
import { schemaForResource } from './kinds.js';

/**
 * Fields the schema does not know, as paths like `spec.foo` or `spec.ports[0].bogus`; the API
 * server reports each as `unknown field "spec.foo"` under strict field validation.
 */
export function unknownFields(info: ResourceInfo, obj: JsonObject): string[] {
  const unknown: string[] = [];
  checkAgainstSchema(schemaForResource(info), obj, unknown);
  return unknown;
}
