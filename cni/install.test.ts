import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { install, renderConflist, renderLauncher, type InstallOptions } from './install.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kcni-install-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const opts = (patch: Partial<InstallOptions> = {}): InstallOptions => ({
  binDir: join(dir, 'bin'),
  confDir: join(dir, 'net.d'),
  podCidr: '10.244.2.0/24',
  bridge: 'cni0',
  name: 'klab',
  ipMasq: false,
  portmap: false,
  ...patch,
});

describe('klab cni install', () => {
  it('renders a 1.1.0 conflist with host-local IPAM from the pod CIDR, and portmap when asked', () => {
    const conflist = JSON.parse(
      renderConflist(opts({ clusterCidr: '10.244.0.0/16', ipMasq: true, portmap: true })),
    );
    expect(conflist).toEqual({
      cniVersion: '1.1.0',
      cniVersions: ['1.0.0', '1.1.0'],
      name: 'klab',
      plugins: [
        {
          type: 'klab-bridge',
          bridge: 'cni0',
          isGateway: true,
          isDefaultGateway: true,
          ipMasq: true,
          nonMasqueradeCIDRs: ['10.244.0.0/16'],
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.2.0/24' }]] },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    });
  });

  it('rejects a bad pod CIDR naming the field', () => {
    expect(() => renderConflist(opts({ podCidr: '10.244.2.1/24' }))).toThrow(/ipam.ranges\[0\]\[0\].subnet/);
  });

  it('names the flag when a CIDR flag is not a network', () => {
    expect(() => install(opts({ podCidr: '10.244.2.1/24' }), process.execPath, 'x')).toThrow(
      /--pod-cidr "10.244.2.1\/24"/,
    );
    expect(() => install(opts({ clusterCidr: 'ten' }), process.execPath, 'x')).toThrow(
      /--cluster-cidr "ten"/,
    );
  });

  it('quotes paths in the launcher', () => {
    expect(renderLauncher('/usr/bin/node', "/o'dd/plugin-main.js")).toContain(
      `exec '/usr/bin/node' '/o'\\''dd/plugin-main.js' "$@"`,
    );
  });

  it('writes an executable launcher and the conflist, idempotently', () => {
    const entry = join(dir, 'fake-entry.mjs');
    const first = install(opts(), process.execPath, entry);
    expect(first.changed).toEqual([first.plugin, first.conflist]);
    expect(statSync(first.plugin).mode & 0o777).toBe(0o755);
    expect(JSON.parse(readFileSync(first.conflist, 'utf8')).plugins[0].type).toBe('klab-bridge');
    expect(install(opts(), process.execPath, entry).changed).toEqual([]);
    expect(install(opts({ podCidr: '10.244.3.0/24' }), process.execPath, entry).changed).toEqual([
      first.conflist,
    ]);
  });

  it('installs a launcher that really runs the plugin', () => {
    const { plugin } = install(opts());
    const out = execFileSync(plugin, {
      env: { CNI_COMMAND: 'VERSION', PATH: process.env.PATH },
      input: '{}',
    });
    expect(JSON.parse(out.toString())).toEqual({
      cniVersion: '1.1.0',
      supportedVersions: ['1.0.0', '1.1.0'],
    });
  });
});
