import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector, FaultSpec, LoggedRequest } from './faults';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RequestContext {
  method: string;
  /** Path with duplicate slashes folded (arm-authorization sends "//subscriptions/..."). */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  rawBody: string;
  params: string[];
  faults: FaultSpec[];
  /** Parsed JSON body; a malformed body answers 400 before the handler runs. */
  json<T = any>(): T;
}

export interface Route {
  method: string;
  pattern: RegExp;
  op: string;
  handle(ctx: RequestContext): Reply | Promise<Reply>;
}

export interface SimServerOptions {
  name: 'arm' | 'kube' | 'login' | 'vault' | 'aksProxy';
  tls: { key: string; cert: string };
  faults: FaultInjector;
  log: LoggedRequest[];
  latencyMs: () => number;
  /** Runs before routing, for auth and version checks; throws HttpError to refuse. */
  guard(ctx: RequestContext, route: Route): void;
  /** How this server shapes an error body for an injected fault. */
  errorBody(status: number, code: string, message: string): unknown;
  routes: Route[];
  /** Paths handled outside routing, faults and the log (the simulator's control API). */
  control?(req: IncomingMessage, res: ServerResponse, body: string): boolean | Promise<boolean>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startHttpsServer(
  opts: SimServerOptions,
): Promise<{ url: string; server: https.Server; close(): Promise<void> }> {
  const hung = new Set<ServerResponse>();
  const connections = new WeakMap<object, number>();
  let lastConnection = 0;
  const server = https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err) => {
        if (!res.headersSent) send(res, 500, opts.errorBody(500, 'InternalServerError', String(err?.stack ?? err)));
      });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, rawBody: string) {
    if (opts.control && (await opts.control(req, res, rawBody))) return;
    // Not new URL(req.url): arm-authorization sends "//subscriptions/...", which a URL parser reads as a host.
    const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2);
    const path = rawPath.replace(/\/{2,}/g, '/');
    const url = { searchParams: new URLSearchParams(rawQuery) };
    const method = req.method ?? 'GET';
    let route: Route | undefined;
    let params: string[] = [];
    for (const r of opts.routes) {
      if (r.method !== method) continue;
      const m = r.pattern.exec(path);
      if (m) {
        route = r;
        params = m.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p)));
        break;
      }
    }
    if (!connections.has(req.socket)) connections.set(req.socket, ++lastConnection);
    const entry: LoggedRequest = {
      server: opts.name,
      method,
      path,
      op: route?.op ?? 'unknown',
      status: 0,
      at: Date.now(),
      connection: connections.get(req.socket),
    };
    opts.log.push(entry);
    const finish = (reply: Reply) => {
      entry.status = reply.status;
      entry.ms = Date.now() - entry.at;
      send(res, reply.status, reply.body, reply.headers);
    };

    const base = opts.latencyMs();
    if (base > 0) await sleep(base);
    if (!route) return finish({ status: 404, body: opts.errorBody(404, 'NotFound', `No route for ${method} ${path}`) });

    const ctx: RequestContext = {
      method,
      path,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      params,
      faults: [],
      json() {
        try {
          return rawBody ? JSON.parse(rawBody) : {};
        } catch (e) {
          throw new HttpError(
            400,
            opts.errorBody(
              400,
              'InvalidRequestContent',
              `The request content was invalid and could not be deserialized: ${(e as Error).message}`,
            ),
          );
        }
      },
    };
    try {
      opts.guard(ctx, route);
      const faults = opts.faults.take(route.op);
      for (const f of faults) {
        entry.fault = f.kind;
        switch (f.kind) {
          case 'latency':
            await sleep(f.latencyMs ?? 1000);
            break;
          case 'reset':
            entry.status = -1;
            req.socket.destroy();
            return;
          case 'timeout':
            entry.status = -2;
            hung.add(res);
            res.on('close', () => hung.delete(res));
            return;
          case '429':
            return finish({
              status: 429,
              headers: { 'Retry-After': String(f.retryAfterSeconds ?? 1) },
              body: opts.errorBody(429, 'TooManyRequests', 'The request is being throttled.'),
            });
          case '500':
            return finish({
              status: 500,
              body: opts.errorBody(500, 'InternalServerError', 'An internal server error occurred.'),
            });
          case '503':
            return finish({
              status: 503,
              headers: { 'Retry-After': String(f.retryAfterSeconds ?? 1) },
              body: opts.errorBody(503, 'ServiceUnavailable', 'The service is temporarily unavailable.'),
            });
          case '409':
            return finish({
              status: 409,
              body: opts.errorBody(409, 'Conflict', 'The request conflicts with another operation in progress.'),
            });
          case '401':
            return finish({ status: 401, body: opts.errorBody(401, 'Unauthorized', 'AKV10022: Invalid audience.') });
          case '403':
            return finish({
              status: 403,
              body: opts.errorBody(
                403,
                'AuthorizationFailed',
                `The client does not have authorization to perform action '${route.op}'.`,
              ),
            });
          default:
            ctx.faults.push(f); // lroFailed, principalNotFound, malformedRows: the handler acts them out
        }
      }
      finish(await route.handle(ctx));
    } catch (e) {
      if (e instanceof HttpError) return finish({ status: e.status, body: e.body, headers: e.headers });
      throw e;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'x-ms-request-id': cryptoId(),
    ...headers,
  });
  res.end(text);
}

let counter = 0;
const cryptoId = () => `sim-${process.pid}-${++counter}`;
