import { CniCode, CniError } from './errors.js';

export const SUPPORTED_VERSIONS = ['1.0.0', '1.1.0'] as const;
export const LATEST_VERSION = '1.1.0';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

export function checkVersion(version: unknown): string {
  if (typeof version !== 'string' || !SEMVER.test(version)) {
    throw new CniError(
      CniCode.DecodeFailure,
      `invalid cniVersion ${JSON.stringify(version)}: not a version string`,
    );
  }
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(
      CniCode.IncompatibleVersion,
      `incompatible CNI versions: config is "${version}", plugin supports [${SUPPORTED_VERSIONS.join(' ')}]`,
    );
  }
  return version;
}

export function versionResult(cniVersion: string): { cniVersion: string; supportedVersions: string[] } {
  return { cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}
