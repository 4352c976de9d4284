/**
 * The protobuf wire format, read one message level at a time: a sequence of (key, value)
 * where key = field number << 3 | wire type. Nested messages stay as bytes until a schema says
 * what they are, so unknown fields are skipped without being understood.
 */

export type WireType = 0 | 1 | 2 | 5;

export interface WireField {
  readonly field: number;
  readonly wire: WireType;
  /** varint: the unsigned 64-bit value; fixed64/fixed32/length-delimited: the raw bytes. */
  readonly value: bigint | Buffer;
  /** Byte offset of the key within the message, for error messages. */
  readonly offset: number;
}

export class WireError extends Error {}

const WIRE_NAMES: Record<number, string> = {
  3: 'start group',
  4: 'end group',
  6: 'reserved 6',
  7: 'reserved 7',
};

/** Reads a base-128 varint at `pos`; returns the value and the offset after it. */
export function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) throw new WireError(`truncated varint at byte ${pos}`);
    result |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) return [BigInt.asUintN(64, result), pos + i + 1];
  }
  throw new WireError(`varint longer than 10 bytes at byte ${pos}`);
}

function take(buf: Buffer, pos: number, len: number, what: string): Buffer {
  if (pos + len > buf.length) {
    throw new WireError(`${what} at byte ${pos} needs ${len} bytes but only ${buf.length - pos} remain`);
  }
  return buf.subarray(pos, pos + len);
}

export function readFields(buf: Buffer): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const offset = pos;
    const [key, afterKey] = readVarint(buf, pos);
    pos = afterKey;
    const wire = Number(key & 7n);
    const field = Number(key >> 3n);
    if (field === 0 || field > 0x1fffffff)
      throw new WireError(`invalid field number ${field} at byte ${offset}`);
    let value: bigint | Buffer;
    switch (wire) {
      case 0:
        [value, pos] = readVarint(buf, pos);
        break;
      case 1:
        value = take(buf, pos, 8, `fixed64 field ${field}`);
        pos += 8;
        break;
      case 5:
        value = take(buf, pos, 4, `fixed32 field ${field}`);
        pos += 4;
        break;
      case 2: {
        const [len, afterLen] = readVarint(buf, pos);
        const remain = buf.length - afterLen;
        if (len > BigInt(remain)) {
          throw new WireError(
            `field ${field} at byte ${afterLen} needs ${len} bytes but only ${remain} remain`,
          );
        }
        value = buf.subarray(afterLen, afterLen + Number(len));
        pos = afterLen + Number(len);
        break;
      }
      default:
        throw new WireError(
          `unsupported wire type ${wire} (${WIRE_NAMES[wire]}) for field ${field} at byte ${offset}`,
        );
    }
    out.push({ field, wire: wire as WireType, value, offset });
  }
  return out;
}
