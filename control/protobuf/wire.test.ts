import { describe, expect, it } from 'vitest';
import { readFields, readVarint } from './wire.js';

const b = (...bytes: number[]) => Buffer.from(bytes);

describe('readVarint', () => {
  it('reads one-byte, multi-byte and 64-bit values and returns the next offset', () => {
    expect(readVarint(b(0x00), 0)).toEqual([0n, 1]);
    expect(readVarint(b(0x7f), 0)).toEqual([127n, 1]);
    expect(readVarint(b(0xff, 0xac, 0x02), 1)).toEqual([300n, 3]);
    const max = b(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    expect(readVarint(max, 0)).toEqual([2n ** 64n - 1n, 10]);
  });

  it('refuses a truncated or an over-long varint', () => {
    expect(() => readVarint(b(0x80, 0x80), 0)).toThrow('truncated varint at byte 0');
    expect(() => readVarint(Buffer.alloc(11, 0x80), 0)).toThrow('varint longer than 10 bytes at byte 0');
  });
});

describe('readFields', () => {
  it('reads all four wire types with field numbers and offsets', () => {
    const msg = b(
      0x08,
      0x96,
      0x01, // field 1 varint 150
      0x11,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8, // field 2 fixed64
      0x1a,
      0x02,
      0x68,
      0x69, // field 3 "hi"
      0x25,
      9,
      8,
      7,
      6, // field 4 fixed32
      0x80,
      0x01,
      0x01, // field 16 varint 1 (two-byte key)
    );
    expect(readFields(msg)).toEqual([
      { field: 1, wire: 0, value: 150n, offset: 0 },
      { field: 2, wire: 1, value: b(1, 2, 3, 4, 5, 6, 7, 8), offset: 3 },
      { field: 3, wire: 2, value: Buffer.from('hi'), offset: 12 },
      { field: 4, wire: 5, value: b(9, 8, 7, 6), offset: 16 },
      { field: 16, wire: 0, value: 1n, offset: 21 },
    ]);
    expect(readFields(Buffer.alloc(0))).toEqual([]);
  });

  it('names what is wrong and where for malformed input', () => {
    expect(() => readFields(b(0x1a, 0x05, 0x68))).toThrow(
      'field 3 at byte 2 needs 5 bytes but only 1 remain',
    );
    expect(() => readFields(b(0x09, 1, 2))).toThrow(
      'fixed64 field 1 at byte 1 needs 8 bytes but only 2 remain',
    );
    expect(() => readFields(b(0x0d, 1))).toThrow('fixed32 field 1 at byte 1 needs 4 bytes but only 1 remain');
    expect(() => readFields(b(0x08))).toThrow('truncated varint at byte 1');
    expect(() => readFields(b(0x08, 0x01, 0x0b))).toThrow(
      'unsupported wire type 3 (start group) for field 1 at byte 2',
    );
    expect(() => readFields(b(0x0f))).toThrow('unsupported wire type 7 (reserved 7) for field 1 at byte 0');
    expect(() => readFields(b(0x00, 0x00))).toThrow('invalid field number 0 at byte 0');
    expect(() => readFields(b(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f))).toThrow(
      'field 1 at byte 6 needs 4294967295 bytes but only 0 remain',
    );
  });
});
