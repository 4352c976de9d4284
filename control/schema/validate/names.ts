import type { Path } from '../causes.js';
import { invalid, tooLong, type FieldCause } from '../causes.js';

/**
 * The name and value formats of k8s.io/apimachinery/pkg/util/validation. Each check returns the
 * problems as detail strings; callers attach them to a field.
 */

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const DNS1035 = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL = new RegExp(`^${DNS1035}$`);
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME}$`);
const LABEL_VALUE = '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?';
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE}$`);

const regexDetail = (what: string, examples: string[], regex: string): string =>
  `${what} (e.g. ${examples.map((e) => `'${e}'`).join(',  or ')}, regex used for validation is '${regex}')`;

const tooLongDetail = (max: number) => `must be no more than ${max} characters`;

export function dns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(tooLongDetail(63));
  if (!DNS1123_LABEL.test(value)) {
    errs.push(
      regexDetail(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        ['my-name', '123-abc'],
        LABEL,
      ),
    );
  }
  return errs;
}

export function dns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(tooLongDetail(253));
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(
      regexDetail(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ['example.com'],
        `${LABEL}(\\.${LABEL})*`,
      ),
    );
  }
  return errs;
}

export function dns1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(tooLongDetail(63));
  if (!DNS1035_LABEL.test(value)) {
    errs.push(
      regexDetail(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        ['my-name', 'abc-123'],
        DNS1035,
      ),
    );
  }
  return errs;
}

/** Label and annotation keys: an optional DNS subdomain prefix, a slash, and a name of at most 63. */
export function qualifiedName(value: string): string[] {
  const parts = value.split('/');
  let name = value;
  const errs: string[] = [];
  if (parts.length === 2) {
    const [prefix, rest] = parts as [string, string];
    name = rest;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((e) => `prefix part ${e}`));
  } else if (parts.length > 2) {
    return [
      regexDetail(
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ['MyName', 'my.name', '123-abc'],
        QUALIFIED_NAME,
      ) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${tooLongDetail(63)}`);
  if (name.length > 0 && !QUALIFIED_NAME_RE.test(name)) {
    errs.push(
      regexDetail(
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ['MyName', 'my.name', '123-abc'],
        QUALIFIED_NAME,
      ),
    );
  }
  return errs;
}

export function labelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(tooLongDetail(63));
  if (!LABEL_VALUE_RE.test(value)) {
    errs.push(
      regexDetail(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ['MyValue', 'my_value', '12345'],
        LABEL_VALUE,
      ),
    );
  }
  return errs;
}

/** IANA_SVC_NAME: port names that Services and containers use. */
export function portName(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(value))
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (value.includes('--')) errs.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(value)) errs.push('must contain at least one letter (a-z)');
  if (value.startsWith('-') || value.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

export const PORT_RANGE = 'must be between 1 and 65535, inclusive';

export function validPort(n: unknown): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Attaches each detail as an Invalid cause of `path`. */
export const each = (path: Path, value: unknown, details: string[]): FieldCause[] =>
  details.map((d) => invalid(path, value, d));

export function checkLabels(labels: unknown, path: Path): FieldCause[] {
  if (typeof labels !== 'object' || labels === null) return [];
  const causes: FieldCause[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    causes.push(...each(path, k, qualifiedName(k)));
    if (typeof v === 'string') causes.push(...each(path, v, labelValue(v)));
  }
  return causes;
}

const ANNOTATIONS_MAX = 256 * 1024;

export function checkAnnotations(annotations: unknown, path: Path): FieldCause[] {
  if (typeof annotations !== 'object' || annotations === null) return [];
  const causes: FieldCause[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    causes.push(...each(path, k.toLowerCase(), qualifiedName(k.toLowerCase())));
    total += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (total > ANNOTATIONS_MAX) causes.push(tooLong(path, ANNOTATIONS_MAX));
  return causes;
}
