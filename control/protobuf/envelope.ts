/**
 * The Kubernetes protobuf envelope: `k8s\0`, then a runtime.Unknown {typeMeta {apiVersion,
 * kind} = 1, raw = 2, contentEncoding = 3, contentType = 4} whose raw is the typed object.
 */
import { ApiError, badRequest } from '../status.js';
import { DecodeError, decodeMessage } from './decode.js';
import { ROOTS } from './schema.js';
import { WireError, readFields, type WireField } from './wire.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

export const MAGIC = Buffer.from('k8s\0', 'latin1');

const bytesOf = (fields: WireField[], n: number): Buffer | undefined => {
  const hit = fields.filter((f) => f.field === n).at(-1);
  if (hit && hit.wire !== 2) throw new WireError(`field ${n} has wire type ${hit.wire}, expected 2`);
  return hit?.value as Buffer | undefined;
};

/** Decodes a protobuf request body into the JSON object it stands for; ApiError 400/415 on bad input. */
export function decodeProtobufObject(raw: Buffer): Record<string, unknown> {
  if (raw.length < 4 || !raw.subarray(0, 4).equals(MAGIC)) {
    throw badRequest('the protobuf request body does not start with the "k8s\\0" prefix');
  }
  let apiVersion: string;
  let kind: string;
  let object: Buffer;
  try {
    const unknown = readFields(raw.subarray(4));
    const typeMeta = readFields(bytesOf(unknown, 1) ?? Buffer.alloc(0));
    apiVersion = bytesOf(typeMeta, 1)?.toString('utf8') ?? '';
    kind = bytesOf(typeMeta, 2)?.toString('utf8') ?? '';
    object = bytesOf(unknown, 2) ?? Buffer.alloc(0);
    const encoding = bytesOf(unknown, 3)?.toString('utf8') ?? '';
    if (encoding !== '') throw new WireError(`content encoding "${encoding}" is not supported`);
  } catch (err) {
    if (err instanceof WireError)
      throw badRequest(`the protobuf request body is malformed: envelope: ${err.message}`);
    throw err;
  }
  const root = ROOTS[`${apiVersion}/${kind}`];
  if (!root) {
    const what = apiVersion || kind ? `${apiVersion}/${kind}` : 'an envelope without apiVersion and kind';
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `protobuf request bodies are accepted for ${Object.keys(ROOTS).join(', ')}, not ${what}; send JSON instead (kubectl create -f / apply -f)`,
    );
  }
  try {
    return { apiVersion, kind, ...decodeMessage(root, object) };
  } catch (err) {
    if (err instanceof DecodeError)
      throw badRequest(`the protobuf request body is malformed: ${err.message}`);
    throw err;
  }
}
