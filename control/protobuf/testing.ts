/**
 * Test support: a small protobuf encoder driven by the same field tables as the decoder, so
 * tests can build bodies from JSON-shaped objects, plus the runtime.Unknown envelope.
 */
import { MESSAGES, type FieldDef } from './schema.js';
import { MAGIC } from './envelope.js';

type Obj = Record<string, unknown>;

export function varint(v: bigint | number): Buffer {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    out.push(n > 0n ? b | 0x80 : b);
  } while (n > 0n);
  return Buffer.from(out);
}

export const key = (field: number, wire: number): Buffer => varint((BigInt(field) << 3n) | BigInt(wire));

export const lengthDelimited = (field: number, body: Buffer): Buffer =>
  Buffer.concat([key(field, 2), varint(body.length), body]);

export const varintField = (field: number, v: bigint | number): Buffer =>
  Buffer.concat([key(field, 0), varint(v)]);

function value(type: string, v: unknown): Buffer | bigint {
  switch (type) {
    case 'string':
      return Buffer.from(String(v), 'utf8');
    case 'bytes':
      return Buffer.from(String(v), 'base64');
    case 'bool':
      return v ? 1n : 0n;
    case 'int32':
    case 'int64':
      return BigInt(v as number);
    case 'Quantity':
      return lengthDelimited(1, Buffer.from(String(v)));
    case 'Time':
      return varintField(1, Math.floor(Date.parse(String(v)) / 1000));
    case 'IntOrString':
      return typeof v === 'number'
        ? Buffer.concat([varintField(1, 0), varintField(2, v)])
        : Buffer.concat([varintField(1, 1), lengthDelimited(3, Buffer.from(String(v)))]);
    default:
      return encodeMessage(type, v as Obj);
  }
}

function field(n: number, type: string, v: unknown): Buffer {
  const encoded = value(type, v);
  return typeof encoded === 'bigint' ? varintField(n, encoded) : lengthDelimited(n, encoded);
}

function encodeField(n: number, def: FieldDef, obj: Obj): Buffer[] {
  if (def.inline) return [lengthDelimited(n, encodeMessage(def.type, obj))];
  const v = obj[def.name];
  if (v === undefined) return [];
  if (def.kind === 'repeated') return (v as unknown[]).map((item) => field(n, def.type, item));
  if (def.kind === 'map') {
    return Object.entries(v as Obj).map(([k, item]) =>
      lengthDelimited(n, Buffer.concat([field(1, 'string', k), field(2, def.type, item)])),
    );
  }
  return [field(n, def.type, v)];
}

/** Encodes a JSON-shaped object as message `type`; names its table lacks are dropped. */
export function encodeMessage(type: string, obj: Obj): Buffer {
  const table = MESSAGES.get(type);
  if (!table) throw new Error(`no field table for ${type}`);
  return Buffer.concat([...table].flatMap(([n, def]) => encodeField(n, def, obj)));
}

/** `k8s\0` + runtime.Unknown around an already encoded object. */
export function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([field(1, 'string', apiVersion), field(2, 'string', kind)]);
  return Buffer.concat([MAGIC, lengthDelimited(1, typeMeta), lengthDelimited(2, raw)]);
}
