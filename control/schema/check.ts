import { Path, notSupported, typeInvalid, type FieldCause } from './causes.js';
import type { SchemaNode } from './types.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const jsonType = (v: unknown): string => {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
};

/**
 * Walks an object against its schema. `unknown` collects paths of fields the schema does not
 * know (strict field validation); the returned causes are type mismatches and values outside an
 * enum. JSON null counts as unset, as it does when kube decodes into Go structs.
 */
export function checkAgainstSchema(schema: SchemaNode, value: unknown, unknown: string[] = []): FieldCause[] {
  const causes: FieldCause[] = [];
  walk(schema, value, Path.root(), causes, unknown);
  return causes;
}

function typeError(path: Path, value: unknown, expected: string): FieldCause {
  const where = path.toString() || 'body';
  return typeInvalid(path, value, `${where} in body must be of type ${expected}: "${jsonType(value)}"`);
}

function walk(schema: SchemaNode, value: unknown, path: Path, causes: FieldCause[], unknown: string[]): void {
  if (value === null || value === undefined) return;
  if (schema['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))) {
      causes.push(typeError(path, value, 'integer or string'));
    }
    return;
  }
  if (schema.format === 'quantity') {
    if (typeof value !== 'string' && typeof value !== 'number') causes.push(typeError(path, value, 'string'));
    return;
  }
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') causes.push(typeError(path, value, 'string'));
      else if (schema.format === 'byte' && !BASE64.test(value)) {
        causes.push(typeInvalid(path, '<value omitted>', 'must be a base64-encoded string'));
      } else if (schema.enum && value !== '' && !schema.enum.includes(value)) {
        causes.push(notSupported(path, value, schema.enum.map(String)));
      }
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value))
        causes.push(typeError(path, value, 'integer'));
      else if (schema.format === 'int32' && (value < INT32_MIN || value > INT32_MAX)) {
        causes.push(typeInvalid(path, value, 'must be a 32-bit integer'));
      }
      return;
    case 'number':
      if (typeof value !== 'number') causes.push(typeError(path, value, 'number'));
      return;
    case 'boolean':
      if (typeof value !== 'boolean') causes.push(typeError(path, value, 'boolean'));
      return;
    case 'array':
      if (!Array.isArray(value)) {
        causes.push(typeError(path, value, 'array'));
        return;
      }
      if (schema.items) {
        const items = schema.items;
        value.forEach((item, i) => walk(items, item, path.index(i), causes, unknown));
      }
      return;
    case 'object':
      if (!isObject(value)) {
        causes.push(typeError(path, value, 'object'));
        return;
      }
      walkObject(schema, value, path, causes, unknown);
      return;
    default:
      return;
  }
}

function walkObject(
  schema: SchemaNode,
  value: Record<string, unknown>,
  path: Path,
  causes: FieldCause[],
  unknown: string[],
): void {
  const props = schema.properties;
  const extra = schema.additionalProperties;
  for (const [k, v] of Object.entries(value)) {
    const prop = props?.[k];
    if (prop) walk(prop, v, path.child(k), causes, unknown);
    else if (typeof extra === 'object') walk(extra, v, path.key(k), causes, unknown);
    else if (props && extra !== true && !schema['x-kubernetes-preserve-unknown-fields']) {
      unknown.push(path.child(k).toString());
    }
  }
}
