import { describe, expect, it } from 'vitest';
import { AllocationError, NodePortAllocator, PodCidrAllocator, ServiceIpAllocator } from './allocators.js';

const seeded = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

describe('ServiceIpAllocator', () => {
  it('hands out unique addresses inside the range, dynamic ones above the static band', () => {
    const a = new ServiceIpAllocator('10.96.0.0/12', seeded(1));
    a.restore('10.96.0.1');
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const ip = a.allocate();
      expect(seen.has(ip)).toBe(false);
      seen.add(ip);
      const [, b, c] = ip.split('.').map(Number);
      expect(b! >= 96 && b! <= 111).toBe(true);
      expect(b === 96 && c === 0).toBe(false);
    }
  });

  it('honours requests and refuses taken or out-of-range ones with kube messages', () => {
    const a = new ServiceIpAllocator('10.96.0.0/12');
    expect(a.allocate('10.96.0.10')).toBe('10.96.0.10');
    expect(() => a.allocate('10.96.0.10')).toThrow(
      'failed to allocate IP 10.96.0.10: provided IP is already allocated',
    );
    expect(() => a.allocate('10.0.0.1')).toThrow(
      /not in the valid range. The range of valid IPs is 10.96.0.0\/12/,
    );
    expect(() => a.allocate('10.111.255.255')).toThrow(AllocationError);
    a.release('10.96.0.10');
    expect(a.allocate('10.96.0.10')).toBe('10.96.0.10');
  });

  it('reports exhaustion', () => {
    const a = new ServiceIpAllocator('10.0.0.0/30');
    a.allocate();
    a.allocate();
    expect(() => a.allocate()).toThrow(/range is full/);
  });
});

describe('NodePortAllocator', () => {
  it('allocates every port of the range exactly once', () => {
    const a = new NodePortAllocator('30000-30099', seeded(7));
    const ports = Array.from({ length: 100 }, () => a.allocate());
    expect(new Set(ports).size).toBe(100);
    expect(Math.min(...ports)).toBe(30000);
    expect(() => a.allocate()).toThrow(/range is full/);
  });

  it('refuses taken and out-of-range requests', () => {
    const a = new NodePortAllocator('30000-32767');
    a.restore(30080);
    expect(() => a.allocate(30080)).toThrow('provided port is already allocated');
    expect(() => a.allocate(80)).toThrow('The range of valid ports is 30000-32767');
  });
});

describe('PodCidrAllocator', () => {
  it('gives each node the first free /24 and keeps restored ones', () => {
    const a = new PodCidrAllocator('10.244.0.0/16');
    a.restore('10.244.0.0/24');
    expect(a.allocate()).toBe('10.244.1.0/24');
    expect(a.allocate()).toBe('10.244.2.0/24');
    a.release('10.244.1.0/24');
    expect(a.allocate()).toBe('10.244.1.0/24');
    expect(() => new PodCidrAllocator('10.244.0.0/16', 8)).toThrow(/does not fit/);
  });
});
