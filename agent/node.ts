import type { KubeObject } from '../kube/client.js';

export const KUBELET_VERSION = 'v1.32.0-klab';

/** What the agent knows about its machine; read once at start-up by the effectful edge. */
export interface Machine {
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly kernelVersion: string;
  readonly osImage: string;
  readonly machineID: string;
}

export interface NodeIdentity {
  readonly name: string;
  readonly ip: string;
  readonly controlPlane: boolean;
}

const memoryQuantity = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;

/** The Node as a fresh kubelet registers it (no podCIDR: node IPAM assigns that). */
export function desiredNode(id: NodeIdentity, machine: Machine): KubeObject {
  const resources = {
    cpu: String(machine.cpus),
    memory: memoryQuantity(machine.memoryBytes),
    pods: '110',
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.name,
      labels: {
        'kubernetes.io/hostname': id.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        ...(id.controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
      },
    },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      addresses: [
        { type: 'InternalIP', address: id.ip },
        { type: 'Hostname', address: id.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: machine.machineID,
        systemUUID: machine.machineID,
        bootID: '',
        kernelVersion: machine.kernelVersion,
        osImage: machine.osImage,
        containerRuntimeVersion: `klab://${KUBELET_VERSION.slice(1)}`,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
  };
}

/** The conditions a healthy kubelet reports, with its heartbeat time. */
export function nodeConditions(now: string, since: string): unknown[] {
  const ok = (type: string, reason: string, message: string) => ({
    type,
    status: 'False',
    lastHeartbeatTime: now,
    lastTransitionTime: since,
    reason,
    message,
  });
  return [
    ok('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    ok('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    ok('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    {
      type: 'Ready',
      status: 'True',
      lastHeartbeatTime: now,
      lastTransitionTime: since,
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
    },
  ];
}

/** The Lease the agent renews in kube-node-lease. */
export function nodeLease(
  node: string,
  nodeUid: string | undefined,
  now: string,
  durationSeconds: number,
): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node,
      namespace: 'kube-node-lease',
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: node, leaseDurationSeconds: durationSeconds, renewTime: now },
  };
}

/** Kubernetes MicroTime, as kubelet writes renewTime. */
export const microTime = (d: Date) => d.toISOString().replace(/Z$/, '000Z');
