import { describe, expect, it } from 'vitest';
import { PREREQUISITES, planSetup } from './prereqs.js';

const byCommand = (...names: string[]) => PREREQUISITES.filter((p) => names.includes(p.command));

describe('planSetup', () => {
  it('does nothing when every command is present', () => {
    expect(planSetup([], { isRoot: false, isDebian: false })).toEqual({ action: 'nothing' });
  });

  it('installs only the missing packages, once each, as root on Debian', () => {
    expect(planSetup(byCommand('dig', 'conntrack'), { isRoot: true, isDebian: true })).toEqual({
      action: 'apt-get',
      packages: ['bind9-dnsutils', 'conntrack'],
    });
  });

  it('stops with the exact apt-get line when not root', () => {
    const plan = planSetup(byCommand('nft'), { isRoot: false, isDebian: true });
    expect(plan.action).toBe('stop');
    if (plan.action === 'stop') {
      expect(plan.message).toContain('nft (Debian package nftables)');
      expect(plan.message).toContain('apt-get install -y nftables');
    }
  });

  it('names the Debian packages on other systems', () => {
    const plan = planSetup(byCommand('arping', 'ip'), { isRoot: true, isDebian: false });
    expect(plan).toMatchObject({ action: 'stop' });
    if (plan.action === 'stop') expect(plan.message).toContain('arping iproute2');
  });
});
