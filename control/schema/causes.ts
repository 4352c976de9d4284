/**
 * Validation causes, worded the way kube-apiserver's field errors are, so that kubectl shows
 * `spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive`.
 */
export type FieldCauseReason =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueForbidden'
  | 'FieldValueTypeInvalid';

export interface FieldCause {
  reason: FieldCauseReason;
  field: string;
  message: string;
}

/** A field path as kube prints it: `spec.ports[0].port`, `metadata.labels[app]`. */
export class Path {
  private constructor(private readonly text: string) {}

  static root(...names: string[]): Path {
    return new Path(names.join('.'));
  }

  child(...names: string[]): Path {
    return new Path([this.text, ...names].filter((x) => x !== '').join('.'));
  }

  index(i: number): Path {
    return new Path(`${this.text}[${i}]`);
  }

  key(k: string): Path {
    return new Path(`${this.text}[${k}]`);
  }

  toString(): string {
    return this.text;
  }
}

/** Renders a value the way kube's field errors do: strings quoted, numbers and booleans bare. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  return JSON.stringify(value);
}

export const invalid = (path: Path, value: unknown, detail: string): FieldCause => ({
  reason: 'FieldValueInvalid',
  field: path.toString(),
  message: `Invalid value: ${showValue(value)}: ${detail}`,
});

export const required = (path: Path, detail = ''): FieldCause => ({
  reason: 'FieldValueRequired',
  field: path.toString(),
  message: detail ? `Required value: ${detail}` : 'Required value',
});

export const notSupported = (path: Path, value: unknown, supported: readonly string[]): FieldCause => ({
  reason: 'FieldValueNotSupported',
  field: path.toString(),
  message: `Unsupported value: ${showValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

export const duplicate = (path: Path, value: unknown): FieldCause => ({
  reason: 'FieldValueDuplicate',
  field: path.toString(),
  message: `Duplicate value: ${showValue(value)}`,
});

export const tooLong = (path: Path, max: number): FieldCause => ({
  reason: 'FieldValueTooLong',
  field: path.toString(),
  message: `Too long: may not be more than ${max} bytes`,
});

export const forbidden = (path: Path, detail: string): FieldCause => ({
  reason: 'FieldValueForbidden',
  field: path.toString(),
  message: `Forbidden: ${detail}`,
});

export const typeInvalid = (path: Path, value: unknown, detail: string): FieldCause => ({
  reason: 'FieldValueTypeInvalid',
  field: path.toString(),
  message: `Invalid value: ${showValue(value)}: ${detail}`,
});

export const immutable = (path: Path, value: unknown): FieldCause =>
  invalid(path, value, 'field is immutable');
