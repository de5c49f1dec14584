// The HTTP port every Sluice daemon serves (docs/architecture.md#processes): /metrics (Prometheus), /healthz
// (the process is up), /readyz (it can do its job), plus JSON routes a daemon adds.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { InvalidArgumentError, SluiceError, asSluiceError } from '../errors.js';
import type { Logger } from './logger.js';
import { checkHttpRequest, type HttpAuth } from '../security/http-auth.js';

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Path parameters captured by `:name` segments. */
  readonly params: Readonly<Record<string, string>>;
}

export interface HttpResult {
  readonly status?: number;
  readonly json?: unknown;
  readonly text?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** e.g. /api/v1/shuffles/:appId/:shuffleId */
  readonly path: string;
  readonly handle: (req: HttpRequest) => Promise<HttpResult> | HttpResult;
}

export interface HttpServiceOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly ready: () => boolean;
  /** The body of a 503 from /readyz (e.g. a follower naming its leader); default "not ready". */
  readonly notReady?: () => string;
  readonly routes?: readonly Route[];
  /** Admin token checks (docs/operations.md#security); absent: none. */
  readonly auth?: HttpAuth;
  /** Counts a request refused by `auth`, with its error code. */
  readonly onRefused?: (code: string) => void;
  readonly logger: Logger;
}

const STATUS_BY_CODE: Record<string, number> = {
  SLUICE_ERR_INVALID_ARGUMENT: 400,
  SLUICE_ERR_NOT_FOUND: 404,
  SLUICE_ERR_ALREADY_EXISTS: 409,
  // A follower manager (HA): the body names the leader.
  SLUICE_ERR_NOT_LEADER: 503,
  SLUICE_ERR_STATE_UNAVAILABLE: 503,
  SLUICE_ERR_UNAUTHENTICATED: 401,
  SLUICE_ERR_UNAUTHORIZED: 403,
};

function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidArgumentError(name, `malformed percent-escape in ${JSON.stringify(raw)}`);
  }
}

function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.startsWith(':')) params[w.slice(1)] = decodeParam(w.slice(1), got[i]!);
    else if (w !== got[i]) return undefined;
  }
  return params;
}

export class HttpService {
  readonly #server: Server;
  readonly #opts: HttpServiceOptions;
  #closed = false;
  #port = 0;

  private constructor(opts: HttpServiceOptions) {
    this.#opts = opts;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 5_000;
  }

  static async start(opts: HttpServiceOptions): Promise<HttpService> {
    const service = new HttpService(opts);
    await new Promise<void>((resolve, reject) => {
      // After listening, errors (EMFILE on accept, ...) are logged; they must not crash the daemon.
      service.#server.on('error', (err) => {
        if (service.#server.listening) opts.logger.error({ err }, 'http server error');
      });
      service.#server.once('error', (err) =>
        reject(
          new SluiceError(
            'SLUICE_ERR_UNAVAILABLE',
            `cannot listen on ${opts.host}:${opts.port}: ${err.message}`,
            { cause: err, retriable: false },
          ),
        ),
      );
      service.#server.listen(opts.port, opts.host, () => {
        service.#port = (service.#server.address() as AddressInfo).port;
        resolve();
      });
    });
    return service;
  }

  /** The bound port (still known after close, for logs and tests). */
  get port(): number {
    return this.#port;
  }

  /** Stops listening; requests in progress get `graceMs` to finish, then are cut. */
  async close(graceMs = 5_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const timer = setTimeout(() => this.#server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  destroy(): void {
    this.#closed = true;
    this.#server.closeAllConnections();
    this.#server.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    try {
      this.#checkAuth(method, url.pathname, req);
      const result = await this.#route(method, url);
      if (result.json !== undefined) {
        res.writeHead(result.status ?? 200, {
          ...result.headers,
          'content-type': 'application/json; charset=utf-8',
        });
        res.end(`${JSON.stringify(result.json, null, 2)}\n`);
      } else {
        res.writeHead(result.status ?? 200, {
          ...result.headers,
          'content-type': result.contentType ?? 'text/plain; charset=utf-8',
        });
        res.end(result.text ?? '');
      }
    } catch (err) {
      const e = asSluiceError(err);
      const status = STATUS_BY_CODE[e.code] ?? 500;
      if (status === 500)
        this.#opts.logger.error({ err: e, path: url.pathname }, 'http handler failed');
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
      });
      const leader = e.context['leader'];
      const error = { code: e.code, message: e.message, ...(leader ? { leader } : {}) };
      res.end(`${JSON.stringify({ error })}\n`);
    }
  }

  #checkAuth(method: string, pathname: string, req: IncomingMessage): void {
    const auth = this.#opts.auth;
    if (!auth) return;
    const path = pathname.replace(/\/+$/, '') || '/';
    if (method === 'GET' && (path === '/healthz' || path === '/readyz')) return;
    try {
      checkHttpRequest(auth, req.headers, method !== 'GET' && method !== 'HEAD');
    } catch (err) {
      this.#opts.onRefused?.(asSluiceError(err).code);
      throw err;
    }
  }

  async #route(method: string, url: URL): Promise<HttpResult> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (method === 'GET' && path === '/metrics') {
      return {
        text: await this.#opts.registry.metrics(),
        contentType: this.#opts.registry.contentType,
      };
    }
    if (method === 'GET' && path === '/healthz') return { text: 'ok\n' };
    if (method === 'GET' && path === '/readyz') {
      if (this.#opts.ready()) return { text: 'ready\n' };
      return { status: 503, text: `${this.#opts.notReady?.() ?? 'not ready'}\n` };
    }
    const allowed: string[] = [];
    for (const route of this.#opts.routes ?? []) {
      const params = match(route.path, path);
      if (!params) continue;
      if (route.method === method)
        return route.handle({ method, path, query: url.searchParams, params });
      allowed.push(route.method);
    }
    if (allowed.length > 0) {
      return {
        status: 405,
        headers: { allow: allowed.join(', ') },
        json: {
          error: {
            code: 'SLUICE_ERR_UNSUPPORTED',
            message: `${method} ${path}; allowed: ${allowed.join(', ')}`,
          },
        },
      };
    }
    return {
      status: 404,
      json: { error: { code: 'SLUICE_ERR_NOT_FOUND', message: `no such path: ${path}` } },
    };
  }
}
