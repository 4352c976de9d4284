/**
 * ClusterIPs, NodePorts and healthCheckNodePorts of Services, assigned at admission as
 * kube-apiserver's Service storage does: a requested value that is taken or out of range is a
 * 422 naming the field, nothing is half-allocated after a failure, and `repair` rebuilds the
 * books from the stored Services on start so nothing is ever handed out twice.
 */
import { AllocationError, NodePortAllocator, ServiceIpAllocator, type Random } from './allocators.js';

export interface FieldProblem {
  readonly field: string;
  readonly value: unknown;
  readonly message: string;
}

export class ServiceAdmissionError extends Error {
  readonly code = 'SERVICE_ALLOCATION_INVALID';
  constructor(readonly problems: readonly FieldProblem[]) {
    super(
      problems.map((p) => `${p.field}: Invalid value: ${JSON.stringify(p.value)}: ${p.message}`).join(', '),
    );
    this.name = 'ServiceAdmissionError';
  }
}

interface Port {
  name?: string;
  port?: number;
  protocol?: string;
  nodePort?: number;
}

export interface ServiceObject {
  metadata?: { name?: string; namespace?: string };
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: Port[];
    externalTrafficPolicy?: string;
    healthCheckNodePort?: number;
    allocateLoadBalancerNodePorts?: boolean;
  };
}

const wantsClusterIP = (s: ServiceObject) => s.spec?.type !== 'ExternalName' && s.spec?.clusterIP !== 'None';
const wantsNodePorts = (s: ServiceObject) =>
  s.spec?.type === 'NodePort' ||
  (s.spec?.type === 'LoadBalancer' && s.spec.allocateLoadBalancerNodePorts !== false);
const wantsHealthCheck = (s: ServiceObject) =>
  s.spec?.type === 'LoadBalancer' && s.spec.externalTrafficPolicy === 'Local';

function clusterIPOf(s: ServiceObject | undefined): string | undefined {
  const ip = s?.spec?.clusterIPs?.[0] ?? s?.spec?.clusterIP;
  return ip === undefined || ip === '' || ip === 'None' ? undefined : ip;
}

export interface Reservation<T> {
  readonly object: T;
  commit(): void;
  rollback(): void;
}

export class ServiceAllocations {
  readonly ips: ServiceIpAllocator;
  readonly ports: NodePortAllocator;

  constructor(serviceCidr = '10.96.0.0/12', nodePortRange = '30000-32767', random?: Random) {
    this.ips = new ServiceIpAllocator(serviceCidr, random);
    this.ports = new NodePortAllocator(nodePortRange, random);
  }

  /** Records what stored Services already hold (call once on start, before admitting). */
  repair(services: readonly ServiceObject[]): void {
    for (const s of services) {
      const ip = clusterIPOf(s);
      if (ip !== undefined) this.ips.restore(ip);
      for (const p of s.spec?.ports ?? []) if (p.nodePort) this.ports.restore(p.nodePort);
      if (s.spec?.healthCheckNodePort) this.ports.restore(s.spec.healthCheckNodePort);
    }
  }

  /**
   * Fills in the addresses and ports a new or changed Service needs, reserving them at once.
   * `commit` (after the write is stored) releases what the old version held and the new one
   * no longer does; `rollback` (when the write failed) returns the reservations. On invalid
   * requests throws ServiceAdmissionError and leaves the books as they were.
   */
  admit<T extends ServiceObject>(service: T, old?: ServiceObject): Reservation<T> {
    const s = structuredClone(service);
    const spec = (s.spec ??= {});
    const taken: (() => void)[] = [];
    const problems: FieldProblem[] = [];
    const toRelease: (() => void)[] = [];
    const attempt = (field: string, value: unknown, fn: () => void) => {
      try {
        fn();
      } catch (error) {
        if (!(error instanceof AllocationError)) throw error;
        problems.push({ field, value, message: error.message });
      }
    };

    const oldIP = clusterIPOf(old);
    // An update that leaves out what was allocated keeps it, as kube-apiserver does for
    // `kubectl replace` of a manifest without clusterIP or nodePort.
    if (old !== undefined && wantsClusterIP(s) && clusterIPOf(s) === undefined && oldIP !== undefined) {
      spec.clusterIP = oldIP;
    }
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const same = old?.spec?.ports?.find(
        (o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'),
      );
      if (same?.nodePort) p.nodePort = same.nodePort;
    }
    if (spec.healthCheckNodePort === undefined && old?.spec?.healthCheckNodePort && wantsHealthCheck(s)) {
      spec.healthCheckNodePort = old.spec.healthCheckNodePort;
    }
    if (wantsClusterIP(s)) {
      const requested = clusterIPOf(s);
      if (requested !== undefined && requested === oldIP) {
        spec.clusterIP = requested;
      } else {
        attempt('spec.clusterIPs', requested === undefined ? undefined : [requested], () => {
          const ip = this.ips.allocate(requested);
          taken.push(() => this.ips.release(ip));
          spec.clusterIP = ip;
        });
        if (oldIP !== undefined) toRelease.push(() => this.ips.release(oldIP));
      }
      if (spec.clusterIP !== undefined) spec.clusterIPs = [spec.clusterIP];
    } else {
      if (spec.type === 'ExternalName') {
        delete spec.clusterIP;
        delete spec.clusterIPs;
      } else spec.clusterIPs = ['None'];
      if (oldIP !== undefined) toRelease.push(() => this.ips.release(oldIP));
    }

    const oldPorts = new Set<number>();
    for (const p of old?.spec?.ports ?? []) if (p.nodePort) oldPorts.add(p.nodePort);
    const keep = new Set<number>();
    if (wantsNodePorts(s)) {
      const inThisService = new Map<number, string[]>();
      (spec.ports ?? []).forEach((p, i) => {
        const field = `spec.ports[${i}].nodePort`;
        const protocol = p.protocol ?? 'TCP';
        if (p.nodePort) {
          const protocols = inThisService.get(p.nodePort);
          // One node port may serve several protocols of one Service (DNS on TCP and UDP).
          if (protocols !== undefined) {
            if (protocols.includes(protocol))
              problems.push({ field, value: p.nodePort, message: 'provided port is already allocated' });
            protocols.push(protocol);
            return;
          }
          if (oldPorts.has(p.nodePort)) {
            keep.add(p.nodePort);
            inThisService.set(p.nodePort, [protocol]);
            return;
          }
        }
        attempt(field, p.nodePort, () => {
          const port = this.ports.allocate(p.nodePort || undefined);
          taken.push(() => this.ports.release(port));
          p.nodePort = port;
          inThisService.set(port, [protocol]);
        });
      });
    } else {
      for (const p of spec.ports ?? []) delete p.nodePort;
    }
    for (const port of oldPorts) if (!keep.has(port)) toRelease.push(() => this.ports.release(port));

    const oldHealth = old?.spec?.healthCheckNodePort;
    if (wantsHealthCheck(s)) {
      if (spec.healthCheckNodePort === undefined || spec.healthCheckNodePort !== oldHealth) {
        attempt('spec.healthCheckNodePort', spec.healthCheckNodePort, () => {
          const port = this.ports.allocate(spec.healthCheckNodePort || undefined);
          taken.push(() => this.ports.release(port));
          spec.healthCheckNodePort = port;
        });
        if (oldHealth) toRelease.push(() => this.ports.release(oldHealth));
      }
    } else {
      delete spec.healthCheckNodePort;
      if (oldHealth) toRelease.push(() => this.ports.release(oldHealth));
    }

    if (problems.length > 0) {
      taken.forEach((undo) => undo());
      throw new ServiceAdmissionError(problems);
    }
    return {
      object: s,
      commit: () => toRelease.forEach((release) => release()),
      rollback: () => taken.forEach((undo) => undo()),
    };
  }

  /** Returns a deleted Service's addresses and ports to the pools. */
  release(service: ServiceObject): void {
    const ip = clusterIPOf(service);
    if (ip !== undefined) this.ips.release(ip);
    for (const p of service.spec?.ports ?? []) if (p.nodePort) this.ports.release(p.nodePort);
    if (service.spec?.healthCheckNodePort) this.ports.release(service.spec.healthCheckNodePort);
  }
}
