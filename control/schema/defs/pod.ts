import {
  CORE,
  atomicList,
  bool,
  enumStr,
  int32,
  int64,
  intOrString,
  keyedList,
  obj,
  quantityMap,
  ref,
  refList,
  str,
  stringMap,
  time,
  type Definitions,
} from '../dsl.js';
import { conditionList, objectMetaRef, selectorRef } from './meta.js';

const c = (name: string) => `${CORE}${name}`;
const atomicRefs = (name: string, description: string) =>
  refList(c(name), description, { 'x-kubernetes-list-type': 'atomic' });
const local = (description: string) => ref(c('LocalObjectReference'), description);

const keyToPath = {
  items: atomicRefs('KeyToPath', 'Which keys to project, and to which relative paths.'),
  defaultMode: int32('File mode bits for the projected files (octal 0644 is 420).'),
  optional: bool('Whether the source may be missing.'),
};

/** Pods, containers and everything a pod template holds. */
export const podDefinitions: Definitions = {
  [c('LocalObjectReference')]: {
    ...obj('Names an object in the same namespace.', { name: str('Name of the referent.') }),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('ObjectFieldSelector')]: {
    ...obj(
      'Selects a field of the pod.',
      {
        apiVersion: str('Version of the schema the path is written in; defaults to v1.'),
        fieldPath: str('Path of the field, such as metadata.name or status.podIP.'),
      },
      ['fieldPath'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('ResourceFieldSelector')]: {
    ...obj(
      'Selects a resource limit or request of a container.',
      {
        containerName: str('Container name; required for volumes.'),
        resource: str('Resource to select, such as limits.cpu.'),
        divisor: ref('io.k8s.apimachinery.pkg.api.resource.Quantity', 'Output unit; defaults to 1.'),
      },
      ['resource'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('ConfigMapKeySelector')]: {
    ...obj(
      'Selects a key of a ConfigMap.',
      {
        name: str('Name of the ConfigMap.'),
        key: str('The key to select.'),
        optional: bool('Whether the ConfigMap or key may be missing.'),
      },
      ['key'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('SecretKeySelector')]: {
    ...obj(
      'Selects a key of a Secret.',
      {
        name: str('Name of the Secret.'),
        key: str('The key to select.'),
        optional: bool('Whether the Secret or key may be missing.'),
      },
      ['key'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('EnvVarSource')]: obj('Where an environment variable takes its value from.', {
    fieldRef: ref(c('ObjectFieldSelector'), 'A field of the pod.'),
    resourceFieldRef: ref(c('ResourceFieldSelector'), 'A resource of the container.'),
    configMapKeyRef: ref(c('ConfigMapKeySelector'), 'A key of a ConfigMap.'),
    secretKeyRef: ref(c('SecretKeySelector'), 'A key of a Secret.'),
  }),
  [c('EnvVar')]: obj(
    'An environment variable of a container.',
    {
      name: str('Variable name.'),
      value: str('Literal value; $(VAR) references to earlier variables are expanded.'),
      valueFrom: ref(c('EnvVarSource'), 'Source of the value; cannot be used together with value.'),
    },
    ['name'],
  ),
  [c('ConfigMapEnvSource')]: obj('Imports all keys of a ConfigMap.', {
    name: str('Name of the ConfigMap.'),
    optional: bool('Whether the ConfigMap may be missing.'),
  }),
  [c('SecretEnvSource')]: obj('Imports all keys of a Secret.', {
    name: str('Name of the Secret.'),
    optional: bool('Whether the Secret may be missing.'),
  }),
  [c('EnvFromSource')]: obj('A source of a whole set of environment variables.', {
    prefix: str('Prefix prepended to every imported key.'),
    configMapRef: ref(c('ConfigMapEnvSource'), 'The ConfigMap to import.'),
    secretRef: ref(c('SecretEnvSource'), 'The Secret to import.'),
  }),
  [c('ContainerPort')]: obj(
    'A network port a container listens on. Informational: any port the process opens is reachable.',
    {
      name: str('IANA service name of the port, unique in the pod; Services can refer to it.'),
      containerPort: int32('Port number on the pod IP, 1-65535.'),
      protocol: enumStr('Protocol of the port; defaults to TCP.', ['SCTP', 'TCP', 'UDP'], { default: 'TCP' }),
      hostPort: int32('Port number to expose on the node, 1-65535.'),
      hostIP: str('Node IP to bind the host port to.'),
    },
    ['containerPort'],
  ),
  [c('ResourceClaim')]: obj(
    'A claim a container uses.',
    {
      name: str('Name of the claim in pod.spec.resourceClaims.'),
      request: str('Request within the claim.'),
    },
    ['name'],
  ),
  [c('ResourceRequirements')]: obj('Compute resources of a container.', {
    limits: quantityMap('Maximum amounts of each resource.'),
    requests: quantityMap('Minimum amounts of each resource; used for scheduling.'),
    claims: keyedList(c('ResourceClaim'), 'Dynamic resource claims used by the container.', {
      mapKeys: ['name'],
    }),
  }),
  [c('ContainerResizePolicy')]: obj(
    'How a container reacts to an in-place resource change.',
    {
      resourceName: str('cpu or memory.'),
      restartPolicy: str('NotRequired or RestartContainer.'),
    },
    ['resourceName', 'restartPolicy'],
  ),
  [c('VolumeMount')]: obj(
    'Where a volume is mounted in a container.',
    {
      name: str('Name of the volume in pod.spec.volumes.'),
      mountPath: str('Absolute path in the container; must not contain a colon.'),
      subPath: str('Path within the volume to mount instead of its root.'),
      subPathExpr: str('Like subPath, with $(VAR) expansion.'),
      readOnly: bool('Mount read-only.'),
      recursiveReadOnly: str('Disabled, IfPossible or Enabled.'),
      mountPropagation: str('None, HostToContainer or Bidirectional.'),
    },
    ['name', 'mountPath'],
  ),
  [c('VolumeDevice')]: obj(
    'A raw block device mapped into a container.',
    {
      name: str('Name of the persistent volume claim in the pod.'),
      devicePath: str('Path of the device in the container.'),
    },
    ['name', 'devicePath'],
  ),
  [c('ExecAction')]: obj('Runs a command in the container.', {
    command: atomicList(str(''), 'Command line, not run in a shell; exit status 0 is success.'),
  }),
  [c('HTTPHeader')]: obj('An HTTP header.', { name: str('Header name.'), value: str('Header value.') }, [
    'name',
    'value',
  ]),
  [c('HTTPGetAction')]: obj(
    'An HTTP GET request; a status from 200 to 399 is success.',
    {
      path: str('Path to request.'),
      port: intOrString('Port number or name to connect to.'),
      host: str('Host to connect to; defaults to the pod IP.'),
      scheme: enumStr('Scheme to use; defaults to HTTP.', ['HTTP', 'HTTPS']),
      httpHeaders: atomicRefs('HTTPHeader', 'Extra request headers.'),
    },
    ['port'],
  ),
  [c('TCPSocketAction')]: obj(
    'Opens a TCP connection; success when it connects.',
    {
      port: intOrString('Port number or name to connect to.'),
      host: str('Host to connect to; defaults to the pod IP.'),
    },
    ['port'],
  ),
  [c('GRPCAction')]: obj(
    'A gRPC health check.',
    {
      port: int32('Port number of the gRPC service.'),
      service: str('Service name sent in the HealthCheckRequest.'),
    },
    ['port'],
  ),
  [c('SleepAction')]: obj('Waits for a while.', { seconds: int64('Seconds to sleep.') }, ['seconds']),
  [c('Probe')]: obj('A periodic health check of a container.', {
    exec: ref(c('ExecAction'), 'Run a command.'),
    httpGet: ref(c('HTTPGetAction'), 'Send an HTTP GET.'),
    tcpSocket: ref(c('TCPSocketAction'), 'Open a TCP connection.'),
    grpc: ref(c('GRPCAction'), 'Call a gRPC health check.'),
    initialDelaySeconds: int32('Seconds after start before the first probe.'),
    timeoutSeconds: int32('Seconds before a probe times out; defaults to 1.'),
    periodSeconds: int32('Seconds between probes; defaults to 10.'),
    successThreshold: int32('Consecutive successes to count as healthy; defaults to 1.'),
    failureThreshold: int32('Consecutive failures to count as unhealthy; defaults to 3.'),
    terminationGracePeriodSeconds: int64('Grace period when a failed liveness probe kills the container.'),
  }),
  [c('LifecycleHandler')]: obj('An action run at a point of the container lifecycle.', {
    exec: ref(c('ExecAction'), 'Run a command.'),
    httpGet: ref(c('HTTPGetAction'), 'Send an HTTP GET.'),
    tcpSocket: ref(c('TCPSocketAction'), 'Deprecated; accepted and ignored.'),
    sleep: ref(c('SleepAction'), 'Wait.'),
  }),
  [c('Lifecycle')]: obj('Actions run after start and before stop of a container.', {
    postStart: ref(c('LifecycleHandler'), 'Run right after the container starts.'),
    preStop: ref(c('LifecycleHandler'), 'Run before the container is stopped.'),
    stopSignal: str('Signal used to stop the container.'),
  }),
  [c('Capabilities')]: obj('Linux capabilities to add or drop.', {
    add: atomicList(str(''), 'Capabilities to add.'),
    drop: atomicList(str(''), 'Capabilities to drop.'),
  }),
  [c('SELinuxOptions')]: obj('SELinux labels.', {
    user: str('SELinux user.'),
    role: str('SELinux role.'),
    type: str('SELinux type.'),
    level: str('SELinux level.'),
  }),
  [c('SeccompProfile')]: obj(
    'A seccomp profile.',
    {
      type: str('Localhost, RuntimeDefault or Unconfined.'),
      localhostProfile: str('Profile file on the node, for Localhost.'),
    },
    ['type'],
  ),
  [c('AppArmorProfile')]: obj(
    'An AppArmor profile.',
    {
      type: str('Localhost, RuntimeDefault or Unconfined.'),
      localhostProfile: str('Profile name loaded on the node, for Localhost.'),
    },
    ['type'],
  ),
  [c('WindowsSecurityContextOptions')]: obj('Windows-specific security options.', {
    gmsaCredentialSpecName: str('Name of the GMSA credential spec.'),
    gmsaCredentialSpec: str('Inlined GMSA credential spec.'),
    runAsUserName: str('User name to run as.'),
    hostProcess: bool('Run as a host process container.'),
  }),
  [c('SecurityContext')]: obj('Security settings of a container.', {
    capabilities: ref(c('Capabilities'), 'Capabilities to add or drop.'),
    privileged: bool('Run privileged.'),
    seLinuxOptions: ref(c('SELinuxOptions'), 'SELinux context.'),
    windowsOptions: ref(c('WindowsSecurityContextOptions'), 'Windows options.'),
    runAsUser: int64('UID to run as.'),
    runAsGroup: int64('GID to run as.'),
    runAsNonRoot: bool('Refuse to run as UID 0.'),
    readOnlyRootFilesystem: bool('Mount the root filesystem read-only.'),
    allowPrivilegeEscalation: bool('Whether a process may gain more privileges than its parent.'),
    procMount: str('Default or Unmasked.'),
    seccompProfile: ref(c('SeccompProfile'), 'Seccomp profile.'),
    appArmorProfile: ref(c('AppArmorProfile'), 'AppArmor profile.'),
  }),
  [c('Sysctl')]: obj(
    'A namespaced kernel parameter.',
    { name: str('Parameter name.'), value: str('Value.') },
    ['name', 'value'],
  ),
  [c('PodSecurityContext')]: obj('Security settings for all containers of a pod.', {
    seLinuxOptions: ref(c('SELinuxOptions'), 'SELinux context.'),
    windowsOptions: ref(c('WindowsSecurityContextOptions'), 'Windows options.'),
    runAsUser: int64('UID to run as.'),
    runAsGroup: int64('GID to run as.'),
    runAsNonRoot: bool('Refuse to run as UID 0.'),
    supplementalGroups: atomicList(int64(''), 'Extra GIDs for the first process.'),
    supplementalGroupsPolicy: str('Merge or Strict.'),
    fsGroup: int64('GID owning the volumes.'),
    fsGroupChangePolicy: str('OnRootMismatch or Always.'),
    sysctls: atomicRefs('Sysctl', 'Namespaced sysctls to set.'),
    seccompProfile: ref(c('SeccompProfile'), 'Seccomp profile.'),
    appArmorProfile: ref(c('AppArmorProfile'), 'AppArmor profile.'),
    seLinuxChangePolicy: str('MountOption or Recursive.'),
  }),
  [c('Container')]: obj(
    'A process of the pod. In klab the image names a built-in program (klab/echo, klab/dns, ' +
      'klab/ingress) or host, which runs the command from the node.',
    {
      name: str('Name of the container, a DNS label unique in the pod.'),
      image: str('Image to run.'),
      command: atomicList(str(''), 'Entrypoint; replaces the image default.'),
      args: atomicList(str(''), 'Arguments to the entrypoint.'),
      workingDir: str('Working directory.'),
      ports: keyedList(c('ContainerPort'), 'Ports the container listens on.', {
        mapKeys: ['containerPort', 'protocol'],
        mergeKey: 'containerPort',
        strategy: 'merge',
      }),
      envFrom: atomicRefs('EnvFromSource', 'Sources of whole sets of environment variables.'),
      env: keyedList(c('EnvVar'), 'Environment variables.', {
        mapKeys: ['name'],
        mergeKey: 'name',
        strategy: 'merge',
      }),
      resources: ref(c('ResourceRequirements'), 'Compute resources.'),
      resizePolicy: atomicRefs('ContainerResizePolicy', 'How resources are resized in place.'),
      restartPolicy: str('Always makes an init container a sidecar.'),
      volumeMounts: keyedList(c('VolumeMount'), 'Volumes mounted into the container.', {
        mapKeys: ['mountPath'],
        mergeKey: 'mountPath',
        strategy: 'merge',
      }),
      volumeDevices: keyedList(c('VolumeDevice'), 'Block devices mapped into the container.', {
        mapKeys: ['devicePath'],
        mergeKey: 'devicePath',
        strategy: 'merge',
      }),
      livenessProbe: ref(c('Probe'), 'Restarts the container when it fails.'),
      readinessProbe: ref(c('Probe'), 'Removes the pod from Service endpoints when it fails.'),
      startupProbe: ref(c('Probe'), 'Holds off the other probes until it succeeds.'),
      lifecycle: ref(c('Lifecycle'), 'Hooks after start and before stop.'),
      terminationMessagePath: str('File the termination message is read from.'),
      terminationMessagePolicy: enumStr('Where the termination message comes from.', [
        'FallbackToLogsOnError',
        'File',
      ]),
      imagePullPolicy: enumStr('When to pull the image.', ['Always', 'IfNotPresent', 'Never']),
      securityContext: ref(c('SecurityContext'), 'Security settings.'),
      stdin: bool('Keep stdin open.'),
      stdinOnce: bool('Close stdin after the first attach.'),
      tty: bool('Allocate a TTY.'),
    },
    ['name'],
  ),
  [c('EphemeralContainer')]: obj(
    'A debugging container added to a running pod.',
    {
      name: str('Name of the container.'),
      image: str('Image to run.'),
      command: atomicList(str(''), 'Entrypoint.'),
      args: atomicList(str(''), 'Arguments.'),
      workingDir: str('Working directory.'),
      env: keyedList(c('EnvVar'), 'Environment variables.', {
        mapKeys: ['name'],
        mergeKey: 'name',
        strategy: 'merge',
      }),
      envFrom: atomicRefs('EnvFromSource', 'Sources of environment variables.'),
      volumeMounts: keyedList(c('VolumeMount'), 'Volume mounts.', {
        mapKeys: ['mountPath'],
        mergeKey: 'mountPath',
        strategy: 'merge',
      }),
      targetContainerName: str('Container whose namespaces to share.'),
      imagePullPolicy: str('When to pull the image.'),
      terminationMessagePath: str('File the termination message is read from.'),
      terminationMessagePolicy: str('Where the termination message comes from.'),
      securityContext: ref(c('SecurityContext'), 'Security settings.'),
      stdin: bool('Keep stdin open.'),
      stdinOnce: bool('Close stdin after the first attach.'),
      tty: bool('Allocate a TTY.'),
    },
    ['name'],
  ),
  [c('KeyToPath')]: obj(
    'Projects one key to a file.',
    {
      key: str('The key.'),
      path: str('Relative file path.'),
      mode: int32('File mode bits.'),
    },
    ['key', 'path'],
  ),
  [c('HostPathVolumeSource')]: obj(
    'A file or directory of the node.',
    {
      path: str('Path on the node.'),
      type: str(
        'Expected type: DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice.',
      ),
    },
    ['path'],
  ),
  [c('EmptyDirVolumeSource')]: obj('A scratch directory that lives as long as the pod.', {
    medium: str('Empty for the node disk, Memory for tmpfs.'),
    sizeLimit: ref('io.k8s.apimachinery.pkg.api.resource.Quantity', 'Maximum size.'),
  }),
  [c('SecretVolumeSource')]: obj('The keys of a Secret as files.', {
    secretName: str('Name of the Secret.'),
    ...keyToPath,
  }),
  [c('ConfigMapVolumeSource')]: obj('The keys of a ConfigMap as files.', {
    name: str('Name of the ConfigMap.'),
    ...keyToPath,
  }),
  [c('DownwardAPIVolumeFile')]: obj(
    'One file with pod information.',
    {
      path: str('Relative file path.'),
      fieldRef: ref(c('ObjectFieldSelector'), 'A field of the pod.'),
      resourceFieldRef: ref(c('ResourceFieldSelector'), 'A resource of a container.'),
      mode: int32('File mode bits.'),
    },
    ['path'],
  ),
  [c('DownwardAPIVolumeSource')]: obj('Pod information as files.', {
    items: atomicRefs('DownwardAPIVolumeFile', 'The files.'),
    defaultMode: int32('File mode bits.'),
  }),
  [c('DownwardAPIProjection')]: obj('Pod information in a projected volume.', {
    items: atomicRefs('DownwardAPIVolumeFile', 'The files.'),
  }),
  [c('SecretProjection')]: obj('A Secret in a projected volume.', {
    name: str('Name of the Secret.'),
    items: keyToPath.items,
    optional: keyToPath.optional,
  }),
  [c('ConfigMapProjection')]: obj('A ConfigMap in a projected volume.', {
    name: str('Name of the ConfigMap.'),
    items: keyToPath.items,
    optional: keyToPath.optional,
  }),
  [c('ServiceAccountTokenProjection')]: obj(
    'A service-account token in a projected volume.',
    {
      audience: str('Audience of the token.'),
      expirationSeconds: int64('Requested lifetime of the token.'),
      path: str('Relative file path.'),
    },
    ['path'],
  ),
  [c('VolumeProjection')]: obj('One source of a projected volume.', {
    secret: ref(c('SecretProjection'), 'A Secret.'),
    configMap: ref(c('ConfigMapProjection'), 'A ConfigMap.'),
    downwardAPI: ref(c('DownwardAPIProjection'), 'Pod information.'),
    serviceAccountToken: ref(c('ServiceAccountTokenProjection'), 'A service-account token.'),
  }),
  [c('ProjectedVolumeSource')]: obj('Several sources in one directory.', {
    sources: atomicRefs('VolumeProjection', 'The sources.'),
    defaultMode: int32('File mode bits.'),
  }),
  [c('PersistentVolumeClaimVolumeSource')]: obj(
    'A PersistentVolumeClaim.',
    {
      claimName: str('Name of the claim.'),
      readOnly: bool('Mount read-only.'),
    },
    ['claimName'],
  ),
  [c('NFSVolumeSource')]: obj(
    'An NFS export.',
    {
      server: str('NFS server.'),
      path: str('Exported path.'),
      readOnly: bool('Mount read-only.'),
    },
    ['server', 'path'],
  ),
  [c('CSIVolumeSource')]: obj(
    'An ephemeral volume from a CSI driver.',
    {
      driver: str('Name of the driver.'),
      readOnly: bool('Mount read-only.'),
      fsType: str('Filesystem type.'),
      volumeAttributes: stringMap('Driver-specific attributes.'),
      nodePublishSecretRef: local('Secret with credentials.'),
    },
    ['driver'],
  ),
  [c('ImageVolumeSource')]: obj('An OCI image as a volume.', {
    reference: str('Image reference.'),
    pullPolicy: str('When to pull the image.'),
  }),
  [c('Volume')]: obj(
    'A named volume that containers of the pod can mount. klab prepares hostPath, emptyDir, ' +
      'configMap, secret, downwardAPI and projected volumes.',
    {
      name: str('Name of the volume, a DNS label unique in the pod.'),
      hostPath: ref(c('HostPathVolumeSource'), 'A path of the node.'),
      emptyDir: ref(c('EmptyDirVolumeSource'), 'A scratch directory.'),
      secret: ref(c('SecretVolumeSource'), 'A Secret.'),
      configMap: ref(c('ConfigMapVolumeSource'), 'A ConfigMap.'),
      downwardAPI: ref(c('DownwardAPIVolumeSource'), 'Pod information.'),
      projected: ref(c('ProjectedVolumeSource'), 'Several sources in one directory.'),
      persistentVolumeClaim: ref(c('PersistentVolumeClaimVolumeSource'), 'A PersistentVolumeClaim.'),
      nfs: ref(c('NFSVolumeSource'), 'An NFS export.'),
      csi: ref(c('CSIVolumeSource'), 'A CSI ephemeral volume.'),
      image: ref(c('ImageVolumeSource'), 'An OCI image.'),
    },
    ['name'],
  ),
  [c('NodeSelectorRequirement')]: obj(
    'One expression on node labels or fields.',
    {
      key: str('Label key or field name.'),
      operator: str('In, NotIn, Exists, DoesNotExist, Gt or Lt.'),
      values: atomicList(str(''), 'Values to compare with.'),
    },
    ['key', 'operator'],
  ),
  [c('NodeSelectorTerm')]: {
    ...obj('Requirements that must all hold.', {
      matchExpressions: atomicRefs('NodeSelectorRequirement', 'Requirements on node labels.'),
      matchFields: atomicRefs('NodeSelectorRequirement', 'Requirements on node fields.'),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('NodeSelector')]: {
    ...obj(
      'Terms of which at least one must hold.',
      {
        nodeSelectorTerms: atomicRefs('NodeSelectorTerm', 'The terms, ORed.'),
      },
      ['nodeSelectorTerms'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [c('PreferredSchedulingTerm')]: obj(
    'A weighted node preference.',
    {
      weight: int32('Weight, 1-100.'),
      preference: ref(c('NodeSelectorTerm'), 'The preferred nodes.'),
    },
    ['weight', 'preference'],
  ),
  [c('NodeAffinity')]: obj('Rules on which nodes the pod may or should run.', {
    requiredDuringSchedulingIgnoredDuringExecution: ref(c('NodeSelector'), 'Hard requirement.'),
    preferredDuringSchedulingIgnoredDuringExecution: atomicRefs(
      'PreferredSchedulingTerm',
      'Soft preferences.',
    ),
  }),
  [c('PodAffinityTerm')]: obj(
    'Pods near which (or away from which) to schedule.',
    {
      labelSelector: selectorRef('Pods to consider.'),
      namespaces: atomicList(str(''), 'Namespaces to look in.'),
      topologyKey: str('Node label that defines "near".'),
      namespaceSelector: selectorRef('Namespaces to look in, by label.'),
      matchLabelKeys: atomicList(str(''), 'Label keys whose values are copied from this pod.'),
      mismatchLabelKeys: atomicList(str(''), 'Label keys whose values must differ from this pod.'),
    },
    ['topologyKey'],
  ),
  [c('WeightedPodAffinityTerm')]: obj(
    'A weighted pod affinity term.',
    {
      weight: int32('Weight, 1-100.'),
      podAffinityTerm: ref(c('PodAffinityTerm'), 'The term.'),
    },
    ['weight', 'podAffinityTerm'],
  ),
  [c('PodAffinity')]: obj('Rules to co-locate with other pods.', {
    requiredDuringSchedulingIgnoredDuringExecution: atomicRefs('PodAffinityTerm', 'Hard requirements.'),
    preferredDuringSchedulingIgnoredDuringExecution: atomicRefs(
      'WeightedPodAffinityTerm',
      'Soft preferences.',
    ),
  }),
  [c('PodAntiAffinity')]: obj('Rules to keep away from other pods.', {
    requiredDuringSchedulingIgnoredDuringExecution: atomicRefs('PodAffinityTerm', 'Hard requirements.'),
    preferredDuringSchedulingIgnoredDuringExecution: atomicRefs(
      'WeightedPodAffinityTerm',
      'Soft preferences.',
    ),
  }),
  [c('Affinity')]: obj('Scheduling constraints.', {
    nodeAffinity: ref(c('NodeAffinity'), 'Node affinity.'),
    podAffinity: ref(c('PodAffinity'), 'Pod affinity.'),
    podAntiAffinity: ref(c('PodAntiAffinity'), 'Pod anti-affinity.'),
  }),
  [c('Toleration')]: obj('Lets the pod run on nodes with a matching taint.', {
    key: str('Taint key; empty with Exists matches every taint.'),
    operator: enumStr('How key and value are compared.', ['Equal', 'Exists']),
    value: str('Taint value to match.'),
    effect: enumStr('Taint effect to match; empty matches all.', [
      'NoExecute',
      'NoSchedule',
      'PreferNoSchedule',
    ]),
    tolerationSeconds: int64('How long a NoExecute taint is tolerated.'),
  }),
  [c('HostAlias')]: obj(
    'Extra /etc/hosts entries.',
    {
      ip: str('IP address.'),
      hostnames: atomicList(str(''), 'Host names for the address.'),
    },
    ['ip'],
  ),
  [c('PodDNSConfigOption')]: obj('A resolver option.', {
    name: str('Option name.'),
    value: str('Option value.'),
  }),
  [c('PodDNSConfig')]: obj('Extra DNS settings merged into the generated resolv.conf.', {
    nameservers: atomicList(str(''), 'Extra name servers.'),
    searches: atomicList(str(''), 'Extra search domains.'),
    options: atomicRefs('PodDNSConfigOption', 'Extra resolver options.'),
  }),
  [c('PodReadinessGate')]: obj(
    'An extra condition the pod needs to be Ready.',
    {
      conditionType: str('Type of a pod condition.'),
    },
    ['conditionType'],
  ),
  [c('TopologySpreadConstraint')]: obj(
    'How to spread matching pods across a topology.',
    {
      maxSkew: int32('Largest allowed difference in matching pods between domains.'),
      topologyKey: str('Node label that defines a domain.'),
      whenUnsatisfiable: str('DoNotSchedule or ScheduleAnyway.'),
      labelSelector: selectorRef('Pods to count.'),
      minDomains: int32('Minimum number of eligible domains.'),
      nodeAffinityPolicy: str('Honor or Ignore.'),
      nodeTaintsPolicy: str('Honor or Ignore.'),
      matchLabelKeys: atomicList(str(''), 'Label keys whose values are copied from this pod.'),
    },
    ['maxSkew', 'topologyKey', 'whenUnsatisfiable'],
  ),
  [c('PodOS')]: obj('Operating system of the pod.', { name: str('linux or windows.') }, ['name']),
  [c('PodSchedulingGate')]: obj('Blocks scheduling while present.', { name: str('Name of the gate.') }, [
    'name',
  ]),
  [c('PodResourceClaim')]: obj(
    'A resource claim of the pod.',
    {
      name: str('Name of the claim within the pod.'),
      resourceClaimName: str('Existing ResourceClaim.'),
      resourceClaimTemplateName: str('ResourceClaimTemplate to create a claim from.'),
    },
    ['name'],
  ),
  [c('PodSpec')]: obj(
    'Desired state of a pod.',
    {
      volumes: keyedList(c('Volume'), 'Volumes the containers can mount.', {
        mapKeys: ['name'],
        mergeKey: 'name',
        strategy: 'merge,retainKeys',
      }),
      initContainers: keyedList(
        c('Container'),
        'Containers run to completion, in order, before the others.',
        {
          mapKeys: ['name'],
          mergeKey: 'name',
          strategy: 'merge',
        },
      ),
      containers: keyedList(c('Container'), 'The containers of the pod; at least one.', {
        mapKeys: ['name'],
        mergeKey: 'name',
        strategy: 'merge',
      }),
      ephemeralContainers: keyedList(c('EphemeralContainer'), 'Debugging containers.', {
        mapKeys: ['name'],
        mergeKey: 'name',
        strategy: 'merge',
      }),
      restartPolicy: enumStr('When containers are restarted; defaults to Always.', [
        'Always',
        'Never',
        'OnFailure',
      ]),
      terminationGracePeriodSeconds: int64('Seconds between the stop signal and the kill; defaults to 30.'),
      activeDeadlineSeconds: int64('Seconds the pod may run before it is failed.'),
      dnsPolicy: enumStr('How the pod resolv.conf is built; defaults to ClusterFirst.', [
        'ClusterFirst',
        'ClusterFirstWithHostNet',
        'Default',
        'None',
      ]),
      nodeSelector: {
        ...stringMap('Labels a node must have to run the pod.'),
        'x-kubernetes-map-type': 'atomic',
      },
      serviceAccountName: str('ServiceAccount the pod runs as.'),
      serviceAccount: str('Deprecated alias of serviceAccountName.'),
      automountServiceAccountToken: bool('Whether to mount the service-account token.'),
      nodeName: str('Node the pod is bound to; set by the scheduler.'),
      hostNetwork: bool("Run in the node's network namespace."),
      hostPID: bool("Use the node's PID namespace."),
      hostIPC: bool("Use the node's IPC namespace."),
      shareProcessNamespace: bool('Share one PID namespace among containers.'),
      securityContext: ref(c('PodSecurityContext'), 'Pod-wide security settings.'),
      imagePullSecrets: keyedList(c('LocalObjectReference'), 'Secrets for pulling images.', {
        mapKeys: ['name'],
        mergeKey: 'name',
        strategy: 'merge',
      }),
      hostname: str('Host name of the pod; defaults to its name.'),
      subdomain: str('Makes the pod reachable as <hostname>.<subdomain>.<namespace>.svc.<domain>.'),
      affinity: ref(c('Affinity'), 'Scheduling constraints.'),
      schedulerName: str('Scheduler that places the pod; defaults to default-scheduler.'),
      tolerations: atomicRefs('Toleration', 'Taints the pod tolerates.'),
      hostAliases: keyedList(c('HostAlias'), 'Extra /etc/hosts entries.', {
        mapKeys: ['ip'],
        mergeKey: 'ip',
        strategy: 'merge',
      }),
      priorityClassName: str('PriorityClass of the pod.'),
      priority: int32('Priority value, from priorityClassName.'),
      dnsConfig: ref(c('PodDNSConfig'), 'Extra DNS settings.'),
      readinessGates: atomicRefs('PodReadinessGate', 'Extra conditions required for readiness.'),
      runtimeClassName: str('RuntimeClass to run with.'),
      enableServiceLinks: bool('Inject Service environment variables; defaults to true.'),
      preemptionPolicy: str('PreemptLowerPriority or Never.'),
      overhead: quantityMap('Resources used by the pod sandbox.'),
      topologySpreadConstraints: keyedList(c('TopologySpreadConstraint'), 'How to spread pods.', {
        mapKeys: ['topologyKey', 'whenUnsatisfiable'],
        mergeKey: 'topologyKey',
        strategy: 'merge',
      }),
      setHostnameAsFQDN: bool('Use the fully qualified domain name as host name.'),
      os: ref(c('PodOS'), 'Operating system of the pod.'),
      hostUsers: bool("Use the node's user namespace; defaults to true."),
      schedulingGates: keyedList(c('PodSchedulingGate'), 'Gates that block scheduling.', {
        mapKeys: ['name'],
        mergeKey: 'name',
        strategy: 'merge',
      }),
      resourceClaims: keyedList(c('PodResourceClaim'), 'Resource claims of the pod.', {
        mapKeys: ['name'],
        mergeKey: 'name',
        strategy: 'merge,retainKeys',
      }),
      resources: ref(c('ResourceRequirements'), 'Pod-level resources.'),
    },
    ['containers'],
  ),
  [c('PodTemplateSpec')]: obj('A pod to create from a template.', {
    metadata: objectMetaRef('Metadata of the pods created.'),
    spec: ref(c('PodSpec'), 'Spec of the pods created.'),
  }),
  [c('PodCondition')]: obj(
    'One aspect of the pod state.',
    {
      type: str('PodScheduled, PodReadyToStartContainers, Initialized, ContainersReady or Ready.'),
      status: str('True, False or Unknown.'),
      observedGeneration: int64('metadata.generation the condition was computed from.'),
      lastProbeTime: time('When the condition was last probed.'),
      lastTransitionTime: time('When status last changed.'),
      reason: str('CamelCase reason for the last transition.'),
      message: str('Human-readable details.'),
    },
    ['type', 'status'],
  ),
  [c('PodIP')]: obj('An IP address of the pod.', { ip: str('The address.') }, ['ip']),
  [c('HostIP')]: obj('An IP address of the node.', { ip: str('The address.') }, ['ip']),
  [c('ContainerStateWaiting')]: obj('The container has not started yet.', {
    reason: str('Why, such as ContainerCreating or CrashLoopBackOff.'),
    message: str('Details.'),
  }),
  [c('ContainerStateRunning')]: obj('The container runs.', { startedAt: time('When it started.') }),
  [c('ContainerStateTerminated')]: obj(
    'The container has exited.',
    {
      exitCode: int32('Exit status.'),
      signal: int32('Signal that ended it.'),
      reason: str('Why, such as Completed or Error.'),
      message: str('Details.'),
      startedAt: time('When it started.'),
      finishedAt: time('When it exited.'),
      containerID: str('ID of the container.'),
    },
    ['exitCode'],
  ),
  [c('ContainerState')]: obj('Exactly one of waiting, running or terminated.', {
    waiting: ref(c('ContainerStateWaiting'), 'Not started yet.'),
    running: ref(c('ContainerStateRunning'), 'Running.'),
    terminated: ref(c('ContainerStateTerminated'), 'Exited.'),
  }),
  [c('ContainerStatus')]: obj(
    'State of one container.',
    {
      name: str('Container name.'),
      state: ref(c('ContainerState'), 'Current state.'),
      lastState: ref(c('ContainerState'), 'State before the last restart.'),
      ready: bool('Whether the readiness probe passes.'),
      restartCount: int32('How often the container was restarted.'),
      image: str('Image it runs.'),
      imageID: str('ID of the image.'),
      containerID: str('ID of the container, as <type>://<id>.'),
      started: bool('Whether the startup probe passed.'),
      allocatedResources: quantityMap('Resources allocated to the container.'),
      resources: ref(c('ResourceRequirements'), 'Resources applied to the container.'),
    },
    ['name', 'ready', 'restartCount', 'image', 'imageID'],
  ),
  [c('PodStatus')]: obj('Observed state of a pod.', {
    phase: enumStr('Lifecycle phase.', ['Failed', 'Pending', 'Running', 'Succeeded', 'Unknown']),
    conditions: conditionList(c('PodCondition'), 'Current conditions.'),
    message: str('Why the pod is in this state.'),
    reason: str('CamelCase reason, such as Evicted.'),
    nominatedNodeName: str('Node the pod is expected to run on after preemption.'),
    hostIP: str('IP of the node the pod runs on.'),
    hostIPs: refList(c('HostIP'), 'IPs of the node.', {
      'x-kubernetes-list-type': 'atomic',
      'x-kubernetes-patch-merge-key': 'ip',
      'x-kubernetes-patch-strategy': 'merge',
    }),
    podIP: str('Primary IP of the pod.'),
    podIPs: keyedList(c('PodIP'), 'IPs of the pod, primary first.', {
      mapKeys: ['ip'],
      mergeKey: 'ip',
      strategy: 'merge',
    }),
    startTime: time('When the node accepted the pod.'),
    initContainerStatuses: atomicRefs('ContainerStatus', 'Status of the init containers.'),
    containerStatuses: atomicRefs('ContainerStatus', 'Status of the containers.'),
    ephemeralContainerStatuses: atomicRefs('ContainerStatus', 'Status of the ephemeral containers.'),
    qosClass: str('Guaranteed, Burstable or BestEffort.'),
    resize: str('Deprecated state of an in-place resize.'),
    observedGeneration: int64('metadata.generation the status was computed from.'),
  }),
};
