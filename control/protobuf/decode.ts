/**
 * Table-driven decoding of one protobuf message into the JSON shape Kubernetes' own JSON
 * encoding gives the same object: omitempty for plain fields, pointer fields kept when set,
 * embedded structs inlined, IntOrString as a number or string, Time as RFC 3339, bytes as
 * base64, Quantity as its string.
 */
import { MESSAGES, VARINT_TYPES, isScalar, type FieldDef } from './schema.js';
import { WireError, readFields, type WireField } from './wire.js';
import { timestamp } from '../../kube/time.js';

export class DecodeError extends Error {}

type Json = string | number | boolean | Json[] | { [key: string]: Json };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fieldsOf(buf: Buffer, path: string): WireField[] {
  try {
    return readFields(buf);
  } catch (err) {
    if (err instanceof WireError) throw new DecodeError(`${path}: ${err.message}`);
    throw err;
  }
}

function varintScalar(type: string, v: bigint): Json {
  if (type === 'bool') return v !== 0n;
  return Number(type === 'int32' ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v));
}

function text(buf: Buffer, path: string): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw new DecodeError(`${path}: string is not valid UTF-8`);
  }
}

function lastOf(fields: WireField[], n: number, wire: number, path: string): WireField | undefined {
  const hits = fields.filter((f) => f.field === n);
  const bad = hits.find((f) => f.wire !== wire);
  if (bad) throw new DecodeError(`${path}: field ${n} has wire type ${bad.wire}, expected ${wire}`);
  return hits.at(-1);
}

function time(buf: Buffer, path: string): Json | undefined {
  if (buf.length === 0) return undefined;
  const fields = fieldsOf(buf, path);
  const seconds = lastOf(fields, 1, 0, path)?.value as bigint | undefined;
  const ms = Number(BigInt.asIntN(64, seconds ?? 0n)) * 1000;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new DecodeError(`${path}: timestamp ${seconds} is out of range`);
  return timestamp(date);
}

function intOrString(buf: Buffer, path: string): Json {
  const fields = fieldsOf(buf, path);
  const type = lastOf(fields, 1, 0, path)?.value as bigint | undefined;
  if (type === 1n) {
    const str = lastOf(fields, 3, 2, path)?.value as Buffer | undefined;
    return str ? text(str, `${path}.strVal`) : '';
  }
  if (type !== undefined && type !== 0n)
    throw new DecodeError(`${path}: IntOrString type ${type} is neither 0 (int) nor 1 (string)`);
  const int = lastOf(fields, 2, 0, path)?.value as bigint | undefined;
  return Number(BigInt.asIntN(32, int ?? 0n));
}

/** A length-delimited value of `type`; undefined only for a zero Time. */
function lengthDelimited(type: string, buf: Buffer, path: string): Json | undefined {
  switch (type) {
    case 'string':
      return text(buf, path);
    case 'bytes':
      return buf.toString('base64');
    case 'Quantity': {
      const s = lastOf(fieldsOf(buf, path), 1, 2, path)?.value as Buffer | undefined;
      return s ? text(s, path) : '';
    }
    case 'Time':
      return time(buf, path);
    case 'IntOrString':
      return intOrString(buf, path);
    default:
      return decodeMessage(type, buf, path);
  }
}

/** Values of one repeated field; the tables hold no repeated numbers, so nothing is packed. */
function repeated(def: FieldDef, hits: WireField[], path: string): Json[] {
  return hits.map((hit, i) => {
    if (hit.wire !== 2) throw new DecodeError(`${path}[${i}]: wire type ${hit.wire} cannot hold ${def.type}`);
    return lengthDelimited(def.type, hit.value as Buffer, `${path}[${i}]`) ?? {};
  });
}

function map(def: FieldDef, hits: WireField[], path: string): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const hit of hits) {
    if (hit.wire !== 2) throw new DecodeError(`${path}: map entry has wire type ${hit.wire}, expected 2`);
    const entry = fieldsOf(hit.value as Buffer, path);
    const key = lastOf(entry, 1, 2, path)?.value as Buffer | undefined;
    const name = key ? text(key, `${path} key`) : '';
    const value = lastOf(entry, 2, 2, `${path}[${name}]`)?.value as Buffer | undefined;
    out[name] = lengthDelimited(def.type, value ?? Buffer.alloc(0), `${path}[${name}]`) ?? '';
  }
  return out;
}

function single(def: FieldDef, hits: WireField[], path: string): Json | undefined {
  if (VARINT_TYPES.has(def.type)) {
    const hit = lastOf(hits, hits[0]!.field, 0, path);
    return varintScalar(def.type, hit!.value as bigint);
  }
  const bad = hits.find((h) => h.wire !== 2);
  if (bad) throw new DecodeError(`${path}: wire type ${bad.wire} cannot hold ${def.type}`);
  // Repeated occurrences of a message field merge, which is what decoding their concatenation does.
  const buf = isScalar(def.type)
    ? (hits.at(-1)!.value as Buffer)
    : Buffer.concat(hits.map((h) => h.value as Buffer));
  return lengthDelimited(def.type, buf, path);
}

const isEmpty = (v: Json | undefined): boolean =>
  v === undefined ||
  v === '' ||
  v === 0 ||
  v === false ||
  (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0);

export function decodeMessage(type: string, buf: Buffer, path: string = type): Record<string, Json> {
  const table = MESSAGES.get(type);
  if (!table) throw new DecodeError(`${path}: no field table for message ${type}`);
  const byField = new Map<number, WireField[]>();
  for (const f of fieldsOf(buf, path)) {
    if (!table.has(f.field)) continue;
    byField.set(f.field, [...(byField.get(f.field) ?? []), f]);
  }
  const out: Record<string, Json> = {};
  for (const [n, def] of [...table].sort(([a], [b]) => a - b)) {
    const hits = byField.get(n);
    if (!hits) continue;
    const at = `${path}.${def.name}`;
    if (def.inline) {
      Object.assign(out, single(def, hits, at));
      continue;
    }
    const value =
      def.kind === 'repeated'
        ? repeated(def, hits, at)
        : def.kind === 'map'
          ? map(def, hits, at)
          : single(def, hits, at);
    if (value === undefined || (!def.keep && isEmpty(value))) continue;
    out[def.name] = value;
  }
  return out;
}
