/**
 * The API server as a fastify instance (no listen): authentication, discovery, OpenAPI,
 * health, version, and the resource handlers, with every error answered as a Status.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { parseAccept } from './accept.js';
import type { UserInfo } from './auth.js';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  negotiateDiscovery,
} from './discovery.js';
import type { Extensions } from './extensions.js';
import { MAX_BODY_BYTES } from './handlers/body.js';
import { handleResource, type WatchSettings } from './handlers/resource.js';
import type { Registry } from './registry.js';
import type { ResourceInfo } from './resources.js';
import type { WatchCache } from './store/index.js';
import { parseResourcePath } from './routes.js';
import { ApiError, internalError, pathNotFound, unauthorized } from './status.js';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-klab',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export type ApiApp = ReturnType<typeof buildApp>;

export interface AppOptions {
  readonly registry: Registry;
  readonly watchCache: (info: ResourceInfo) => WatchCache;
  readonly ext: Extensions;
  readonly authenticate: (
    authorization: string | undefined,
  ) => UserInfo | undefined | Promise<UserInfo | undefined>;
  /** Signs bound service-account tokens (serviceaccounts/<name>/token). */
  readonly serviceAccountKey?: Buffer;
  readonly logger: Logger;
  readonly https?: { key: string; cert: string };
  /** host:port clients use to reach the server (legacy `/api` serverAddressByClientCIDRs). */
  readonly serverAddress: string;
  readonly now?: () => Date;
  readonly watch?: Partial<WatchSettings>;
  /** Readiness beyond liveness (e.g. the store answers). */
  readonly ready?: () => Promise<boolean>;
}

const PUBLIC_PATHS = ['/healthz', '/livez', '/readyz', '/version'];

declare module 'fastify' {
  interface FastifyRequest {
    user?: UserInfo;
  }
}

function sendStatus(reply: FastifyReply, err: ApiError): FastifyReply {
  return reply.code(err.code).type('application/json').send(err.toStatus());
}

export function buildApp(opts: AppOptions) {
  const now = opts.now ?? (() => new Date());
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    ...(opts.https ? { https: opts.https } : {}),
    // Watches stay open for up to an hour; kube's own limit is --min-request-timeout.
    requestTimeout: 0,
    routerOptions: { maxParamLength: 1000, ignoreTrailingSlash: true },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    const started = process.hrtime.bigint();
    reply.raw.on('close', () => {
      opts.logger.info({
        method: req.method,
        url: req.url,
        status: reply.raw.statusCode,
        user: req.user?.name,
        userAgent: req.headers['user-agent'],
        contentType: req.headers['content-type'],
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
    const path = req.url.split('?')[0] ?? '';
    const user = await opts.authenticate(req.headers.authorization);
    if (user) req.user = user;
    else if (!PUBLIC_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) {
      return sendStatus(reply, unauthorized());
    }
  });

  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof ApiError) return sendStatus(reply, err);
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendStatus(
        reply,
        new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`),
      );
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return sendStatus(reply, new ApiError(e.statusCode, 'BadRequest', e.message ?? 'bad request'));
    }
    opts.logger.error({ err }, 'request failed');
    return sendStatus(reply, internalError(e.message ?? String(err)));
  });
  app.setNotFoundHandler((_req, reply) => sendStatus(reply, pathNotFound()));

  const health = async (_req: FastifyRequest, reply: FastifyReply): Promise<string> => {
    if (opts.ready && !(await opts.ready())) {
      reply.code(500);
      return '[-]etcd failed: storage is not answering\nhealthz check failed';
    }
    reply.type('text/plain; charset=utf-8');
    return 'ok';
  };
  app.get('/healthz', health);
  app.get('/livez', health);
  app.get('/readyz', health);
  app.get('/version', async () => SERVER_VERSION);

  const discovery = (core: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const format = negotiateDiscovery(parseAccept(req.headers.accept));
    if (format === undefined) {
      throw new ApiError(
        406,
        'NotAcceptable',
        'only the following media types are accepted: application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList, application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
      );
    }
    if (format !== 'legacy') {
      reply.header('Content-Type', aggregatedContentType(format));
      reply.header('Vary', 'Accept');
      return aggregatedDiscovery(core, format);
    }
    reply.header('Vary', 'Accept');
    return core ? apiVersions(opts.serverAddress) : apiGroupList();
  };
  app.get('/api', discovery(true));
  app.get('/apis', discovery(false));
  app.get('/api/v1', async () => apiResourceList('', 'v1'));
  app.get('/apis/:group', async (req) => apiGroup((req.params as { group: string }).group) ?? notFoundPath());
  app.get('/apis/:group/:version', async (req) => {
    const { group, version } = req.params as { group: string; version: string };
    return apiResourceList(group, version) ?? notFoundPath();
  });

  app.get('/openapi/v3', async () => ({ paths: opts.ext.openApiV3Paths() }));
  app.get('/openapi/v3/*', async (req, reply) => {
    const path = (req.params as { '*': string })['*'];
    const doc = opts.ext.openApiV3Document(path);
    if (!doc) return notFoundPath();
    reply.header('Cache-Control', 'public, immutable');
    return doc;
  });

  const ctx = {
    registry: opts.registry,
    watchCache: opts.watchCache,
    ext: opts.ext,
    now,
    ...(opts.serviceAccountKey ? { serviceAccountKey: opts.serviceAccountKey } : {}),
    watch: {
      bookmarkIntervalMs: opts.watch?.bookmarkIntervalMs ?? 60_000,
      maxBufferedBytes: opts.watch?.maxBufferedBytes ?? 16 * 1024 * 1024,
      minRequestTimeoutSeconds: opts.watch?.minRequestTimeoutSeconds ?? 1800,
    },
  };
  const resource = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const path = parseResourcePath(req.url.split('?')[0] ?? '');
    if (!path) return notFoundPath();
    return handleResource(ctx, req.user!, path, req, reply);
  };
  for (const prefix of ['/api/v1/*', '/apis/:group/:version/*']) {
    app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: prefix, handler: resource });
  }
  return app;
}

function notFoundPath(): never {
  throw pathNotFound();
}
