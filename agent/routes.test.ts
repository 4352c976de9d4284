import { describe, expect, it } from 'vitest';
import { desiredRoutes, diffRoutes } from './routes.js';

const node = (name: string, podCIDR?: string, ip?: string) => ({
  metadata: { name },
  spec: podCIDR ? { podCIDR } : {},
  status: ip
    ? {
        addresses: [
          { type: 'Hostname', address: name },
          { type: 'InternalIP', address: ip },
        ],
      }
    : {},
});

describe('host-gw routes', () => {
  it('routes every other node with a pod CIDR and an InternalIP, never itself', () => {
    const nodes = [
      node('node-1', '10.244.0.0/24', '192.168.56.11'),
      node('node-3', '10.244.2.0/24', '192.168.56.13'),
      node('node-2', '10.244.1.0/24', '192.168.56.12'),
      node('node-4', undefined, '192.168.56.14'),
    ];
    expect(desiredRoutes('node-1', nodes)).toEqual([
      { dst: '10.244.1.0/24', via: '192.168.56.12' },
      { dst: '10.244.2.0/24', via: '192.168.56.13' },
    ]);
  });

  it('replaces changed gateways and removes routes of departed nodes', () => {
    const current = [
      { dst: '10.244.1.0/24', via: '192.168.56.12' },
      { dst: '10.244.2.0/24', via: '192.168.56.99' },
      { dst: '10.244.5.0/24', via: '192.168.56.15' },
    ];
    const desired = [
      { dst: '10.244.1.0/24', via: '192.168.56.12' },
      { dst: '10.244.2.0/24', via: '192.168.56.13' },
    ];
    expect(diffRoutes(current, desired)).toEqual({
      replace: [{ dst: '10.244.2.0/24', via: '192.168.56.13' }],
      remove: [{ dst: '10.244.5.0/24', via: '192.168.56.15' }],
    });
  });
});
