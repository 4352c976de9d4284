import http from 'node:http';
import https from 'node:https';
import type { Connection } from './kubeconfig.js';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
};

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** Where a resource lives in the REST API. */
export interface ResourceRef {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export function resourcePath(
  ref: ResourceRef,
  at: { namespace?: string; name?: string; subresource?: string } = {},
): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = at.namespace === undefined ? '' : `/namespaces/${encodeURIComponent(at.namespace)}`;
  const name = at.name === undefined ? '' : `/${encodeURIComponent(at.name)}`;
  const sub = at.subresource === undefined ? '' : `/${at.subresource}`;
  return `${base}${ns}/${ref.plural}${name}${sub}`;
}

/** A failed API call, carrying the Kubernetes Status the server answered with. */
export class ApiError extends Error {
  readonly code = 'KUBE_API_ERROR';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs === '' ? path : `${path}?${qs}`;
}

/** A small Kubernetes REST client: JSON requests and streaming watches, nothing generated. */
export class KubeClient {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(
    readonly connection: Connection,
    readonly userAgent = 'klab',
  ) {
    this.url = new URL(connection.server);
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ca: connection.ca,
            cert: connection.clientCert,
            key: connection.clientKey,
            rejectUnauthorized: !connection.insecureSkipTlsVerify,
          })
        : new http.Agent({ keepAlive: true });
  }

  private open(method: string, path: string, headers: Record<string, string>): http.ClientRequest {
    const lib = this.url.protocol === 'https:' ? https : http;
    return lib.request({
      method,
      host: this.url.hostname,
      port: this.url.port,
      path,
      agent: this.agent,
      headers: {
        Accept: 'application/json',
        'User-Agent': this.userAgent,
        ...(this.connection.token === undefined ? {} : { Authorization: `Bearer ${this.connection.token}` }),
        ...headers,
      },
    });
  }

  /** Sends one request and returns the decoded JSON answer; a non-2xx answer throws ApiError. */
  request<T = unknown>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> =
      body === undefined ? {} : { 'Content-Type': options.contentType ?? 'application/json' };
    return new Promise<T>((resolvePromise, reject) => {
      const req = this.open(method, withQuery(path, options.query), headers);
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed meanwhile fails before the request reached
        // it, so sending once more is safe (Node's documented recipe for reused sockets).
        if (req.reusedSocket && error.code === 'ECONNRESET') {
          this.request<T>(method, path, options).then(resolvePromise, reject);
        } else reject(error);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            // A non-JSON answer (a proxy's HTML error page, say) is reported as text below.
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolvePromise(parsed as T);
          const s = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
          reject(
            new ApiError(
              status,
              typeof s.reason === 'string' ? s.reason : `HTTP${status}`,
              `${method} ${path}: ${typeof s.message === 'string' ? s.message : text.slice(0, 200) || `HTTP ${status}`}`,
              parsed,
            ),
          );
        });
      });
      req.end(body);
    });
  }

  get<T extends KubeObject>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  list<T extends KubeObject>(path: string, query?: Query): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', path, { query });
  }

  create<T extends KubeObject>(path: string, body: T): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  replace<T extends KubeObject>(path: string, body: T): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  patch<T extends KubeObject>(
    path: string,
    body: unknown,
    type: 'merge' | 'strategic' | 'json' | 'apply' = 'merge',
    query?: Query,
  ): Promise<T> {
    const contentType = {
      merge: 'application/merge-patch+json',
      strategic: 'application/strategic-merge-patch+json',
      json: 'application/json-patch+json',
      apply: 'application/apply-patch+yaml',
    }[type];
    return this.request<T>('PATCH', path, { body, contentType, query });
  }

  delete<T = unknown>(path: string, query?: Query): Promise<T> {
    return this.request<T>('DELETE', path, { query });
  }

  /**
   * Streams a watch: calls `onEvent` for every event line until the server ends the stream,
   * the signal aborts, or the connection fails (the promise then rejects).
   */
  watch<T extends KubeObject>(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent<T>) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolvePromise, reject) => {
      const req = this.open('GET', withQuery(path, { ...query, watch: true }), {});
      const abort = () => req.destroy();
      signal?.addEventListener('abort', abort, { once: true });
      const done = (error?: Error) => {
        signal?.removeEventListener('abort', abort);
        if (error !== undefined && signal?.aborted !== true) reject(error);
        else resolvePromise();
      };
      req.on('error', done);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let reason = `HTTP${status}`;
            let message = Buffer.concat(chunks).toString('utf8');
            try {
              const s = JSON.parse(message) as { reason?: string; message?: string };
              reason = s.reason ?? reason;
              message = s.message ?? message;
            } catch {
              // keep the raw text as the message
            }
            done(new ApiError(status, reason, `watch ${path}: ${message}`));
          });
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line === '') continue;
            let event: WatchEvent<T>;
            try {
              event = JSON.parse(line) as WatchEvent<T>;
            } catch (error) {
              req.destroy();
              done(new Error(`watch ${path}: undecodable event: ${(error as Error).message}`));
              return;
            }
            try {
              onEvent(event);
            } catch (error) {
              // The consumer ends the watch by throwing (an ERROR event, say); pass its reason on.
              req.destroy();
              done(error as Error);
              return;
            }
          }
        });
        res.on('end', () => done());
        res.on('error', (e) => done(e));
        res.on('aborted', () => done(new Error(`watch ${path}: connection aborted`)));
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
