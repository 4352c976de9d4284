import { describe, expect, it } from 'vitest';
import {
  createBatch,
  deleteBatch,
  hostConfig,
  lanConfig,
  MAX_NODES,
  nodeIp,
  planLab,
  planNamespaces,
  renderNamespaceScript,
} from './plan.js';

describe('planLab', () => {
  it('lays out nodes from .11, ext at .2, every name carrying the lab name', () => {
    const plan = planLab({ name: 'demo', nodes: 2 });
    expect(plan.hosts).toEqual([
      {
        name: 'node-1',
        role: 'node',
        netns: 'klab-demo-node-1',
        ip: '192.168.56.11',
        ifname: 'eth1',
        lanPort: 'node-1',
      },
      {
        name: 'node-2',
        role: 'node',
        netns: 'klab-demo-node-2',
        ip: '192.168.56.12',
        ifname: 'eth1',
        lanPort: 'node-2',
      },
      {
        name: 'ext',
        role: 'ext',
        netns: 'klab-demo-ext',
        ip: '192.168.56.2',
        ifname: 'eth1',
        lanPort: 'ext',
      },
    ]);
    expect(plan.lanNetns).toBe('klab-demo-lan');
    expect(plan.hostAccess).toBeNull();
    expect(planNamespaces(plan)).toEqual([
      'klab-demo-lan',
      'klab-demo-node-1',
      'klab-demo-node-2',
      'klab-demo-ext',
    ]);
  });

  it('keeps the last node below the LoadBalancer pool at .200', () => {
    expect(nodeIp(MAX_NODES)).toBe('192.168.56.110');
  });

  it.each([0, -1, 1.5, MAX_NODES + 1, Number.NaN])('rejects %s nodes', (nodes) => {
    expect(() => planLab({ name: 'lab', nodes })).toThrow(`from 1 to ${MAX_NODES}`);
  });

  it('creates namespaces and cross-namespace veths in one host batch (golden)', () => {
    expect(createBatch(planLab({ name: 'demo', nodes: 1, hostAccess: true }))).toEqual([
      'netns add klab-demo-lan',
      'netns add klab-demo-node-1',
      'netns add klab-demo-ext',
      'link add eth1 netns klab-demo-node-1 type veth peer name node-1 netns klab-demo-lan',
      'link add eth1 netns klab-demo-ext type veth peer name ext netns klab-demo-lan',
      'link add kl-demo type veth peer name host netns klab-demo-lan',
      'addr add 192.168.56.1/24 dev kl-demo',
      'link set kl-demo up',
    ]);
  });

  it('puts every port, the host-access peer included, on the LAN bridge', () => {
    expect(lanConfig(planLab({ name: 'demo', nodes: 1, hostAccess: true })).ipBatch).toEqual([
      'link set lo up',
      'link add lan0 type bridge',
      'link set lan0 up',
      'link set node-1 master lan0 up',
      'link set ext master lan0 up',
      'link set host master lan0 up',
    ]);
  });

  it('renders a node script: sysctls as writes, then ip -batch from stdin (golden)', () => {
    const [node] = planLab({ name: 'demo', nodes: 1 }).hosts;
    const config = hostConfig(node!, { brNetfilter: true });
    expect(renderNamespaceScript(config)).toBe(
      [
        'set -e',
        'echo 1 > /proc/sys/net/ipv4/ip_forward',
        'echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter',
        'echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter',
        'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet',
        'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables',
        'echo 1 > /proc/sys/net/bridge/bridge-nf-call-ip6tables',
        'exec ip -batch -',
      ].join('\n'),
    );
    expect(config.ipBatch).toEqual([
      'link set lo up',
      'addr add 192.168.56.11/24 dev eth1',
      'link set eth1 up',
      'route add default dev eth1',
    ]);
  });

  it('skips bridge sysctls without br_netfilter, and gives ext neither sysctls nor a default route', () => {
    const plan = planLab({ name: 'demo', nodes: 1 });
    const [node, ext] = plan.hosts;
    expect(hostConfig(node!, { brNetfilter: false }).sysctls.map(([k]) => k)).not.toContain(
      'net.bridge.bridge-nf-call-iptables',
    );
    const extConfig = hostConfig(ext!, { brNetfilter: true });
    expect(extConfig.sysctls).toEqual([]);
    expect(extConfig.ipBatch.some((line) => line.startsWith('route'))).toBe(false);
  });

  it('deletes namespaces by name', () => {
    expect(deleteBatch(['klab-a-lan', 'klab-a-ext'])).toEqual([
      'netns del klab-a-lan',
      'netns del klab-a-ext',
    ]);
  });
});
