/**
 * Runs every controller loop of `klab control` (kube-controller-manager's and kube-scheduler's
 * roles) against the API through an ordinary client, so they see exactly what other clients see
 * and survive restarts by relisting.
 */
import { KubeClient } from '../../kube/client.js';
import type { Connection } from '../../kube/kubeconfig.js';
import { ControllerContext, type Log } from './context.js';
import { startEndpointSliceController } from './endpointslice-controller.js';
import { type LifecycleTimings, startNodeIpam, startNodeLifecycle } from './node-controllers.js';
import { startScheduler } from './scheduler-controller.js';
import {
  type ApiServerEndpoint,
  startKubernetesService,
  startLoadBalancerIpam,
} from './service-controllers.js';
import { startDeploymentController, startReplicaSetController } from './workloads-controller.js';

export interface ControllerConfig {
  readonly connection: Connection;
  readonly apiServer: ApiServerEndpoint;
  readonly clusterCidr: string;
  readonly nodeCidrMaskSize: number;
  readonly lifecycle: LifecycleTimings;
  readonly log: Log;
}

export const DEFAULT_LIFECYCLE: LifecycleTimings = {
  gracePeriodMs: 40_000,
  evictionTimeoutMs: 300_000,
  monitorPeriodMs: 1_000,
};

export interface RunningControllers {
  stop(): Promise<void>;
}

export async function startControllers(config: ControllerConfig): Promise<RunningControllers> {
  const client = new KubeClient(config.connection, 'klab-controller-manager');
  const ctx = new ControllerContext(client, config.log);
  for (const name of [
    'services',
    'pods',
    'nodes',
    'endpoints',
    'endpointSlices',
    'replicaSets',
    'deployments',
    'leases',
    'pools',
  ] as const) {
    ctx.informer(name);
  }
  await ctx.startInformers();
  const kubernetes = startKubernetesService(ctx, config.apiServer);
  const queues = [
    startNodeIpam(ctx, config.clusterCidr, config.nodeCidrMaskSize),
    startEndpointSliceController(ctx),
    startReplicaSetController(ctx),
    startDeploymentController(ctx),
    startScheduler(ctx),
    startLoadBalancerIpam(ctx),
  ];
  const lifecycle = startNodeLifecycle(ctx, config.lifecycle);
  await kubernetes.ready;
  return {
    async stop() {
      kubernetes.stop();
      lifecycle.stop();
      queues.forEach((q) => q.stop());
      await ctx.stop();
      client.close();
    },
  };
}
