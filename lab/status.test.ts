import { describe, expect, it } from 'vitest';
import type { ProcessStatus } from './processes.js';
import type { LabState } from './state.js';
import { judgeHosts, renderStatus, summarize } from './status.js';

const state: LabState = {
  version: 1,
  lab: 'demo',
  provider: 'netns',
  phase: 'up',
  createdAt: '2026-01-01T00:00:00.000Z',
  nodes: 1,
  lanNetns: 'klab-demo-lan',
  bridge: 'lan0',
  hosts: [
    { name: 'node-1', role: 'node', netns: 'klab-demo-node-1', ip: '192.168.56.11', ifname: 'eth1' },
    { name: 'ext', role: 'ext', netns: 'klab-demo-ext', ip: '192.168.56.2', ifname: 'eth1' },
  ],
  hostAccess: null,
  brNetfilter: true,
  warnings: [],
  processes: [],
};

const echo: ProcessStatus = {
  host: 'node-1',
  component: 'echo',
  pid: 4242,
  startTime: '1',
  argv: ['klab', 'echo'],
  log: '/run/klab/labs/demo/logs/node-1/echo.log',
  healthUrl: 'http://127.0.0.1:8080/',
  startedAt: '2026-01-01T00:00:01.000Z',
  running: true,
  healthy: true,
};

describe('lab status', () => {
  it('flags missing namespaces and missing addresses', () => {
    const hosts = judgeHosts(state, [
      { host: 'node-1', present: true, addresses: ['192.168.56.99/24'] },
      { host: 'ext', present: false, addresses: [] },
    ]);
    expect(hosts.map((h) => h.problem)).toEqual(['eth1 lacks 192.168.56.11/24', 'namespace missing']);
    expect(summarize(state, hosts, []).healthy).toBe(false);
  });

  it('is healthy only when hosts are fine and every process runs and passes its health check', () => {
    const hosts = judgeHosts(state, [
      { host: 'node-1', present: true, addresses: ['192.168.56.11/24'] },
      { host: 'ext', present: true, addresses: ['192.168.56.2/24'] },
    ]);
    expect(summarize(state, hosts, [echo]).healthy).toBe(true);
    expect(summarize(state, hosts, [{ ...echo, healthy: false }]).healthy).toBe(false);
    expect(summarize({ ...state, phase: 'creating' }, hosts, []).healthy).toBe(false);
  });

  it('renders hosts and processes as tables (golden)', () => {
    const hosts = judgeHosts(state, [
      { host: 'node-1', present: true, addresses: ['192.168.56.11/24'] },
      { host: 'ext', present: false, addresses: [] },
    ]);
    expect(renderStatus(summarize(state, hosts, [{ ...echo, running: false, healthy: undefined }]))).toBe(
      [
        'lab "demo": DEGRADED (netns provider, created 2026-01-01T00:00:00.000Z)',
        '',
        'HOST    ROLE  ADDRESS        NAMESPACE         STATE',
        'node-1  node  192.168.56.11  klab-demo-node-1  ok',
        'ext     ext   192.168.56.2   klab-demo-ext     namespace missing',
        '',
        'host access: off',
        'br_netfilter: loaded',
        '',
        'HOST    COMPONENT  PID   STATE   HEALTH  LOG',
        'node-1  echo       4242  EXITED  -       /run/klab/labs/demo/logs/node-1/echo.log',
      ].join('\n'),
    );
  });
});
