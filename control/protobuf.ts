/**
 * Decodes the Kubernetes protobuf envelope (`k8s\0` + runtime.Unknown) for the few kinds that
 * kubectl's typed commands send that way (`kubectl create namespace|configmap|secret|
 * serviceaccount`), into the JSON objects the rest of the server handles. Field numbers follow
 * the upstream `generated.proto` files of core/v1 and meta/v1.
 */
import { ApiError } from './status.js';

type Fields = Map<number, (number | Buffer)[]>;

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function varint(buf: Buffer, at: { pos: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (at.pos >= buf.length) throw new Error('truncated varint');
    const b = buf[at.pos++] as number;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
    shift += 7;
    if (shift > 63) throw new Error('varint too long');
  }
}

/** Parses one message level: field number → values (varints as numbers, length-delimited as bytes). */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const key = varint(buf, at);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let value: number | Buffer;
    if (wire === 0) value = varint(buf, at);
    else if (wire === 2) {
      const len = varint(buf, at);
      if (at.pos + len > buf.length) throw new Error('truncated field');
      value = buf.subarray(at.pos, at.pos + len);
      at.pos += len;
    } else if (wire === 1) {
      value = buf.subarray(at.pos, at.pos + 8);
      at.pos += 8;
    } else if (wire === 5) {
      value = buf.subarray(at.pos, at.pos + 4);
      at.pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const bytes = (f: Fields, n: number): Buffer | undefined => {
  const v = f.get(n)?.at(-1);
  return Buffer.isBuffer(v) ? v : undefined;
};
const str = (f: Fields, n: number): string | undefined => bytes(f, n)?.toString('utf8');
const strs = (f: Fields, n: number): string[] =>
  (f.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v)).map((b) => b.toString('utf8'));
const num = (f: Fields, n: number): number | undefined => {
  const v = f.get(n)?.at(-1);
  return typeof v === 'number' ? v : undefined;
};

/** A proto map<string, V>: repeated entries with key = 1, value = 2. */
function map<V>(f: Fields, n: number, value: (b: Buffer) => V): Record<string, V> | undefined {
  const entries = (f.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v));
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map((e) => {
      const ef = fields(e);
      return [str(ef, 1) ?? '', value(bytes(ef, 2) ?? Buffer.alloc(0))];
    }),
  );
}

const text = (b: Buffer): string => b.toString('utf8');

function prune(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  );
}

function objectMeta(b: Buffer | undefined): Record<string, unknown> {
  const f = fields(b ?? Buffer.alloc(0));
  return prune({
    name: str(f, 1),
    generateName: str(f, 2),
    namespace: str(f, 3),
    labels: map(f, 11, text),
    annotations: map(f, 12, text),
    finalizers: strs(f, 14),
  });
}

const bool = (f: Fields, n: number): boolean | undefined =>
  num(f, n) === undefined ? undefined : num(f, n) === 1;

const DECODERS: Record<string, (f: Fields) => Record<string, unknown>> = {
  'v1/Namespace': (f) => {
    const spec = fields(bytes(f, 2) ?? Buffer.alloc(0));
    const finalizers = strs(spec, 1);
    return prune({ metadata: objectMeta(bytes(f, 1)), spec: finalizers.length ? { finalizers } : undefined });
  },
  'v1/ConfigMap': (f) =>
    prune({
      metadata: objectMeta(bytes(f, 1)),
      data: map(f, 2, text),
      binaryData: map(f, 3, (b) => b.toString('base64')),
      immutable: bool(f, 4),
    }),
  'v1/Secret': (f) =>
    prune({
      metadata: objectMeta(bytes(f, 1)),
      data: map(f, 2, (b) => b.toString('base64')),
      type: str(f, 3),
      stringData: map(f, 4, text),
      immutable: bool(f, 5),
    }),
  'v1/ServiceAccount': (f) =>
    prune({ metadata: objectMeta(bytes(f, 1)), automountServiceAccountToken: bool(f, 4) }),
};

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

export function decodeProtobufObject(raw: Buffer): Record<string, unknown> {
  if (!raw.subarray(0, 4).equals(MAGIC)) {
    throw new ApiError(400, 'BadRequest', 'protobuf body does not start with the "k8s\\0" prefix');
  }
  let apiVersion: string | undefined;
  let kind: string | undefined;
  let body: Fields;
  try {
    const unknown = fields(raw.subarray(4));
    const typeMeta = fields(bytes(unknown, 1) ?? Buffer.alloc(0));
    apiVersion = str(typeMeta, 1);
    kind = str(typeMeta, 2);
    body = fields(bytes(unknown, 2) ?? Buffer.alloc(0));
  } catch (err) {
    throw new ApiError(
      400,
      'BadRequest',
      `the protobuf body could not be decoded: ${(err as Error).message}`,
    );
  }
  const decode = DECODERS[`${apiVersion}/${kind}`];
  if (!decode) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `protobuf bodies are accepted for ${Object.keys(DECODERS).join(', ')} only, not ${apiVersion}/${kind}; send JSON (kubectl apply -f or create -f)`,
    );
  }
  return { apiVersion, kind, ...decode(body) };
}
