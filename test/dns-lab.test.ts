/**
 * Issue 7 end to end: cluster DNS deployed by `klab lab up` (coredns Deployment behind kube-dns
 * 10.96.0.10), queried with dig from pods and nodes through kube-proxy; an authoritative server
 * on ext is the upstream. One lab for the whole file, always taken down.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxName } from '../agent/pod.js';
import { klab, KLAB_JS } from './support/klab-cli.js';
import { randomLabName } from './support/lab-name.js';
import { labDown, labKubectl, labUp } from './support/lab.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { inNetns, processAlive, run, waitFor } from './support/netns.js';

const lab = randomLabName('d');
const DNS2 = pathToFileURL(createRequire(import.meta.url).resolve('dns2')).href;
const labState = join(process.env.KLAB_STATE_DIR ?? '/run/klab', 'labs', lab);
const DNS = '10.96.0.10';
const scratch = mkdtempSync(join(tmpdir(), 'klab-dns-lab-'));
const upstreamLog = join(scratch, 'upstream.json');
let upstream: ChildProcess | undefined;

const { kubectl, json, apply } = labKubectl(lab);

interface PodInfo {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}

const ready = (p: PodInfo) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function readyPods(namespace: string, selector: string, count: number): Promise<PodInfo[]> {
  return waitFor(
    `${count} ready pods ${namespace}/${selector}`,
    async () => {
      const list = await json<{ items: PodInfo[] }>(['-n', namespace, 'get', 'pods', '-l', selector]).catch(
        () => ({ items: [] }),
      );
      const up = list.items.filter(ready);
      return up.length === count ? up : undefined;
    },
    180_000,
  );
}

interface Dig {
  status: string;
  flags: string[];
  answer: string[][];
  authority: string[][];
  raw: string;
}

/** dig's sections as rows of fields (`name ttl class type data…`). */
function parseDig(out: string): Dig {
  const dig: Dig = { status: '', flags: [], answer: [], authority: [], raw: out };
  let section: 'answer' | 'authority' | undefined;
  for (const line of out.split('\n')) {
    const status = /status: (\w+)/.exec(line);
    if (status) dig.status = status[1] as string;
    const flags = /^;; flags: ([a-z ]+);/.exec(line);
    if (flags) dig.flags = (flags[1] as string).trim().split(' ');
    if (line.startsWith(';; ANSWER SECTION')) section = 'answer';
    else if (line.startsWith(';; AUTHORITY SECTION')) section = 'authority';
    else if (line.startsWith(';;') || line.trim() === '') section = line.trim() === '' ? undefined : section;
    else if (section && !line.startsWith(';')) dig[section].push(line.trim().split(/\s+/));
  }
  return dig;
}

const DIG_OPTS = ['+noall', '+comments', '+answer', '+authority', '+timeout=2', '+tries=3'];

async function digIn(netns: string, args: string[]): Promise<Dig> {
  const r = await inNetns(netns, ['dig', `@${DNS}`, ...DIG_OPTS, ...args], 30_000);
  if (r.exitCode !== 0) throw new Error(`dig ${args.join(' ')} in ${netns}: ${r.stdout}${r.stderr}`);
  return parseDig(r.stdout);
}

const nodeNetns = (node: string) => `klab-${lab}-${node}`;
const podNetns = (p: PodInfo) => sandboxName(`klab-${lab}-`, p.metadata.uid);
const data = (rows: string[][]) => rows.map((r) => r.slice(4).join(' ')).sort();

const fixtures = `
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers: [{name: echo, image: klab/echo, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: other}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo-other}}
  template:
    metadata: {labels: {app: echo-other}}
    spec:
      containers: [{name: echo, image: klab/echo, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: other}
spec:
  selector: {app: echo-other}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: default, labels: {app: db}}
spec:
  hostname: db-0
  subdomain: db
  containers: [{name: db, image: klab/echo, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: tcp, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: site, namespace: default}
spec:
  type: ExternalName
  externalName: www.example.test
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hl, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: hl}}
  template:
    metadata: {labels: {app: hl}}
    spec:
      containers: [{name: hl, image: klab/echo, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: hl, namespace: default}
spec:
  clusterIP: None
  selector: {app: hl}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: big, namespace: default}
spec:
  clusterIP: None
  ports: [{name: dns, port: 53, protocol: UDP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: big-1
  namespace: default
  labels: {kubernetes.io/service-name: big, endpointslice.kubernetes.io/managed-by: dns-lab-test}
addressType: IPv4
ports: [{name: dns, port: 53, protocol: UDP}]
endpoints:
${Array.from({ length: 100 }, (_, i) => `  - {addresses: ["10.250.0.${i + 1}"], conditions: {ready: true}}`).join('\n')}
`;

let client: PodInfo;
let dnsPods: PodInfo[];

beforeAll(async () => {
  await labUp(lab);
  // The nodes' resolver (ext) answers example.test: the upstream cluster DNS forwards to.
  const stub = new URL('./dns/upstream-stub.js', `file://${KLAB_JS}`).href;
  const code = `
    import { renameSync, writeFileSync } from 'node:fs';
    const { startUpstreamStub } = await import(${JSON.stringify(stub)});
    const s = await startUpstreamStub(
      { origin: 'example.test', a: { 'www.example.test': ['192.0.2.10'], 'api.example.test': ['192.0.2.11'] }, ttl: 300, negativeTtl: 60 },
      '192.168.56.2', 53);
    // Written aside and renamed, so the test never reads a file half rewritten.
    setInterval(() => {
      writeFileSync(${JSON.stringify(upstreamLog + '.new')}, JSON.stringify(Object.fromEntries(s.queries)));
      renameSync(${JSON.stringify(upstreamLog + '.new')}, ${JSON.stringify(upstreamLog)});
    }, 100);
  `;
  upstream = spawn(
    'ip',
    ['netns', 'exec', `klab-${lab}-ext`, process.execPath, '--input-type=module', '-e', code],
    { stdio: 'ignore' },
  );
  await apply(fixtures);
  dnsPods = await readyPods('kube-system', 'k8s-app=kube-dns', 2);
  client = (await readyPods('default', 'app=echo', 1))[0]!;
  await readyPods('other', 'app=echo-other', 1);
  await readyPods('default', 'app=db', 1);
  await readyPods('default', 'app=hl', 1);
  await waitFor('the upstream on ext', async () => (existsSync(upstreamLog) ? true : undefined), 30_000);
}, 420_000);

afterAll(async () => {
  if (upstream?.pid !== undefined && processAlive(upstream.pid)) process.kill(upstream.pid, 'SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
  await labDown(lab);
}, 120_000);

describe('cluster DNS in the lab', () => {
  it('is deployed as kubeadm deploys CoreDNS: 2 coredns pods behind kube-dns 10.96.0.10, on the node resolver', async () => {
    const svc = await json<{
      spec: { clusterIP: string; ports: { name: string; port: number; protocol: string }[] };
    }>(['-n', 'kube-system', 'get', 'service', 'kube-dns']);
    expect(svc.spec.clusterIP).toBe(DNS);
    expect(svc.spec.ports.map((p) => `${p.name} ${p.port}/${p.protocol}`)).toEqual([
      'dns 53/UDP',
      'dns-tcp 53/TCP',
      'metrics 9153/TCP',
    ]);
    expect(dnsPods).toHaveLength(2);
    // dnsPolicy Default: the pod resolves through the node's resolver, ext.
    expect(readFileSync(`/etc/netns/${podNetns(dnsPods[0]!)}/resolv.conf`, 'utf8')).toBe(
      'nameserver 192.168.56.2\n',
    );
    const viaExec = await klab(
      ['lab', 'exec', '--name', lab, `pod/default/${client.metadata.name}`, '--', 'cat', '/etc/resolv.conf'],
      { timeoutMs: 30_000 },
    );
    // The CLI runner strips the final newline.
    expect(viaExec.stdout).toBe(
      'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5',
    );
    const metrics = await inNetns(nodeNetns('node-2'), [
      'curl',
      '-s',
      '--max-time',
      '5',
      `http://${DNS}:9153/metrics`,
    ]);
    expect(metrics.stdout).toContain('coredns_dns_requests_total');
  }, 60_000);

  it('answers every record kind with the right data and rcode, from a pod and from a node', async () => {
    const echo = await json<{ spec: { clusterIP: string } }>(['get', 'service', 'echo']);
    const db = (await readyPods('default', 'app=db', 1))[0]!;
    const dbIP = db.status.podIP as string;
    for (const netns of [podNetns(client), nodeNetns('node-3')]) {
      const a = await digIn(netns, ['echo.default.svc.cluster.local', 'A']);
      expect([a.status, data(a.answer)], netns).toEqual(['NOERROR', [`${echo.spec.clusterIP}`]]);
      expect(a.flags).toContain('aa');

      const missing = await digIn(netns, ['missing.default.svc.cluster.local', 'A']);
      expect(missing.status).toBe('NXDOMAIN');
      expect(missing.authority[0]?.[3]).toBe('SOA');

      const nodata = await digIn(netns, ['echo.default.svc.cluster.local', 'AAAA']);
      expect([nodata.status, nodata.answer.length, nodata.authority[0]?.[3]]).toEqual(['NOERROR', 0, 'SOA']);

      const srv = await digIn(netns, ['_http._tcp.echo.default.svc.cluster.local', 'SRV']);
      expect(data(srv.answer)).toEqual(['0 100 80 echo.default.svc.cluster.local.']);

      const ptr = await digIn(netns, ['-x', echo.spec.clusterIP]);
      expect(data(ptr.answer)).toEqual(['echo.default.svc.cluster.local.']);

      const headless = await digIn(netns, ['db.default.svc.cluster.local', 'A']);
      expect(data(headless.answer)).toEqual([dbIP]);
      const host = await digIn(netns, ['db-0.db.default.svc.cluster.local', 'A']);
      expect(data(host.answer)).toEqual([dbIP]);
      const podPtr = await digIn(netns, ['-x', dbIP]);
      expect(data(podPtr.answer)).toEqual(['db-0.db.default.svc.cluster.local.']);
      const headlessSrv = await digIn(netns, ['_tcp._tcp.db.default.svc.cluster.local', 'SRV']);
      expect(data(headlessSrv.answer)).toEqual(['0 100 8080 db-0.db.default.svc.cluster.local.']);

      const cname = await digIn(netns, ['site.default.svc.cluster.local', 'A']);
      expect(cname.answer.map((r) => `${r[3]} ${r[4]}`)).toEqual(['CNAME www.example.test.', 'A 192.0.2.10']);

      const dashed = dbIP.replaceAll('.', '-');
      const pod = await digIn(netns, [`${dashed}.default.pod.cluster.local`, 'A']);
      expect(data(pod.answer)).toEqual([dbIP]);

      const version = await digIn(netns, ['dns-version.cluster.local', 'TXT']);
      expect(data(version.answer)).toEqual(['"1.1.0"']);

      const ns = await digIn(netns, ['other.svc.cluster.local', 'A']);
      expect([ns.status, ns.answer.length]).toEqual(['NOERROR', 0]);
    }
  }, 240_000);

  it('reaches services by short name through the search path: echo in the same namespace, echo.other across', async () => {
    const same = await inNetns(podNetns(client), ['curl', '-s', '--max-time', '10', 'http://echo/']);
    expect(same.exitCode, same.stderr).toBe(0);
    expect((JSON.parse(same.stdout) as { hostname: string }).hostname).toBe(client.metadata.name);
    const other = (await readyPods('other', 'app=echo-other', 1))[0]!;
    const across = await inNetns(podNetns(client), ['curl', '-s', '--max-time', '10', 'http://echo.other/']);
    expect(across.exitCode, across.stderr).toBe(0);
    expect((JSON.parse(across.stdout) as { hostname: string }).hostname).toBe(other.metadata.name);
  }, 60_000);

  it('answers over TCP; a 100-endpoint headless service is truncated over UDP and complete over TCP', async () => {
    const tcp = await digIn(podNetns(client), ['+tcp', 'echo.default.svc.cluster.local', 'A']);
    expect([tcp.status, tcp.answer.length]).toEqual(['NOERROR', 1]);
    const udp = await digIn(podNetns(client), [
      '+ignore',
      '+bufsize=1232',
      'big.default.svc.cluster.local',
      'A',
    ]);
    expect(udp.flags).toContain('tc');
    expect(udp.answer.length).toBeLessThan(100);
    const full = await digIn(podNetns(client), ['+tcp', 'big.default.svc.cluster.local', 'A']);
    expect(full.flags).not.toContain('tc');
    expect(data(full.answer)).toEqual(Array.from({ length: 100 }, (_, i) => `10.250.0.${i + 1}`).sort());
  }, 60_000);

  it('forwards other names to the upstream on ext and caches positive and negative answers', async () => {
    const upstreamCount = (key: string): number =>
      (JSON.parse(readFileSync(upstreamLog, 'utf8')) as Record<string, number>)[key] ?? 0;
    // One replica directly, so both lookups meet the same cache.
    const replica = `@${dnsPods[0]!.status.podIP}`;
    const digReplica = async (args: string[]) => {
      const r = await inNetns(podNetns(client), ['dig', replica, ...DIG_OPTS, ...args], 30_000);
      return parseDig(r.stdout);
    };
    const first = await digReplica(['api.example.test', 'A']);
    expect([first.status, data(first.answer)]).toEqual(['NOERROR', ['192.0.2.11']]);
    expect(first.flags).not.toContain('aa');
    const again = await digReplica(['api.example.test', 'A']);
    expect(data(again.answer)).toEqual(['192.0.2.11']);
    expect(Number(again.answer[0]?.[1])).toBeLessThanOrEqual(300);
    const nx = await digReplica(['nothing.example.test', 'A']);
    expect(nx.status).toBe('NXDOMAIN');
    await digReplica(['nothing.example.test', 'A']);
    await new Promise((r) => setTimeout(r, 300));
    // Type 1 = A: each name reached the upstream once, the repeats came from the cache.
    expect(upstreamCount('api.example.test|1')).toBe(1);
    expect(upstreamCount('nothing.example.test|1')).toBe(1);
  }, 60_000);

  interface Visibility {
    /** When the API change was acknowledged (or, with `apiCondition`, first observed), ms. */
    changed: number;
    /** When an answer first satisfied the DNS condition, ms. */
    seen: number;
  }

  /**
   * Runs on node-2, so both clocks are one process's: waits until kube-dns answers, makes the
   * API change itself (the admin token over HTTPS), then asks kube-dns every 20 ms — a new socket
   * each time, so kube-proxy picks a replica per query — until `dnsCondition` (a JS expression
   * over dns2's parsed packet `r`) holds. With `apiCondition` (over the parsed JSON `o` of
   * `apiPoll`) the change counts as made when the API first shows it.
   */
  async function visibility(o: {
    name: string;
    dnsCondition: string;
    change: { method: string; path: string; body?: unknown; contentType?: string };
    apiPoll?: string;
    apiCondition?: string;
  }): Promise<Visibility> {
    const conn = loadKubeconfig(join(labState, 'control', 'admin.kubeconfig'));
    const code = `
      import dgram from 'node:dgram';
      import https from 'node:https';
      import dns2 from ${JSON.stringify(DNS2)};
      const { Packet } = dns2;
      const o = ${JSON.stringify(o)};
      const api = (method, path, body, contentType) => new Promise((resolve, reject) => {
        const req = https.request(process.env.API + path, {
          method, ca: process.env.CA, headers: { Authorization: 'Bearer ' + process.env.TOKEN,
            'Content-Type': contentType ?? 'application/json', Accept: 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(res.statusCode + ' ' + text)));
        });
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
      const ask = () => new Promise((resolve) => {
        const sock = dgram.createSocket('udp4');
        const q = new Packet();
        q.header.id = Math.floor(Math.random() * 65535);
        q.header.rd = 1;
        q.questions.push({ name: o.name, type: Packet.TYPE.A, class: Packet.CLASS.IN });
        const done = (r) => { clearTimeout(timer); sock.close(); resolve(r); };
        const timer = setTimeout(() => done(undefined), 500);
        sock.on('message', (m) => done(Packet.parse(m)));
        sock.send(q.toBuffer(), 53, ${JSON.stringify(DNS)});
      });
      while (!(await ask())) await new Promise((t) => setTimeout(t, 100));
      let changed = undefined;
      let seen = undefined;
      await api(o.change.method, o.change.path, o.change.body, o.change.contentType);
      if (!o.apiPoll) changed = Date.now();
      const apiWatch = (async () => {
        while (changed === undefined) {
          const obj = await api('GET', o.apiPoll);
          if (new Function('o', 'return ' + o.apiCondition)(obj)) changed = Date.now();
          else await new Promise((t) => setTimeout(t, 20));
        }
      })();
      const holds = new Function('r', 'return ' + o.dnsCondition);
      while (seen === undefined) {
        const r = await ask();
        if (r && holds(r)) seen = Date.now();
        else await new Promise((t) => setTimeout(t, 20));
      }
      await apiWatch;
      console.log(JSON.stringify({ changed, seen }));
      process.exit(0);
    `;
    const r = await run(
      ['ip', 'netns', 'exec', `klab-${lab}-node-2`, process.execPath, '--input-type=module', '-e', code],
      {
        env: { API: conn.server, CA: conn.ca ?? '', TOKEN: conn.token ?? '' },
        timeoutMs: 180_000,
      },
    );
    if (r.exitCode !== 0) throw new Error(`visibility poller for ${o.name} failed: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Visibility;
  }

  it('shows a new service, a scaled headless service and a deleted service within 1 s', async () => {
    const ms = (v: Visibility) => v.seen - v.changed;
    const created = await visibility({
      name: 'fresh.default.svc.cluster.local',
      dnsCondition: 'r.answers.length > 0',
      change: {
        method: 'POST',
        path: '/api/v1/namespaces/default/services',
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'fresh' },
          spec: { selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080 }] },
        },
      },
    });
    const scaled = await visibility({
      name: 'hl.default.svc.cluster.local',
      dnsCondition: 'r.answers.length === 3',
      change: {
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/default/deployments/hl/scale',
        body: { spec: { replicas: 3 } },
        contentType: 'application/merge-patch+json',
      },
      // Scaling waits for pods to start; DNS is measured from the slice listing 3 ready endpoints.
      apiPoll:
        '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dhl',
      apiCondition:
        'o.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length === 3',
    });
    const deleted = await visibility({
      name: 'fresh.default.svc.cluster.local',
      dnsCondition: 'r.header.rcode === 3',
      change: { method: 'DELETE', path: '/api/v1/namespaces/default/services/fresh' },
    });
    const measured = { created: ms(created), scaled: ms(scaled), deleted: ms(deleted) };
    console.log(`DNS visibility after the API change (ms): ${JSON.stringify(measured)}`);
    // Measured 5–50 ms at load ≈ 20; the bound is 1 s.
    for (const [what, value] of Object.entries(measured)) expect(value, what).toBeLessThan(1_000);
  }, 300_000);

  it('keeps answering through the other replica when one coredns pod is deleted', async () => {
    // Deleted rather than its process killed: a killed process is restarted at once, and until
    // its first sync it answers SERVFAIL while its endpoint may still be ready (README).
    const victim = dnsPods[0]!;
    const del = await kubectl(['-n', 'kube-system', 'delete', 'pod', victim.metadata.name, '--wait=false']);
    expect(del.exitCode, del.stderr).toBe(0);
    const failures: string[] = [];
    const until = Date.now() + 15_000;
    let lookups = 0;
    while (Date.now() < until) {
      // A resolver's behaviour: a short timeout and retries, each retry a new query.
      const r = await inNetns(
        podNetns(client),
        ['dig', `@${DNS}`, '+short', '+timeout=1', '+tries=3', 'echo.default.svc.cluster.local'],
        30_000,
      );
      lookups++;
      if (r.exitCode !== 0 || r.stdout.trim() === '') failures.push(`${r.stdout}${r.stderr}`.trim());
    }
    expect(lookups).toBeGreaterThan(3);
    expect(failures).toEqual([]);
  }, 60_000);
});
