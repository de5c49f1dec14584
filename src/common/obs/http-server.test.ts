import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError, SluiceError } from '../errors.js';
import { HttpService, type Route } from './http-server.js';
import { SILENT_LOGGER } from './logger.js';

const COUNTER_NAME = 'sluice_test_requests_total';

const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/things/:id',
    handle: (req) => ({ json: { id: req.params['id'], q: req.query.get('q') } }),
  },
  {
    method: 'POST',
    path: '/api/v1/things',
    handle: async () => ({ status: 201, json: { created: true } }),
  },
  {
    method: 'GET',
    path: '/api/v1/shuffles/:appId/:shuffleId',
    handle: (req) => ({ json: { ...req.params } }),
  },
  {
    method: 'GET',
    path: '/api/v1/missing',
    handle: () => {
      throw new NotFoundError('x');
    },
  },
  {
    method: 'GET',
    path: '/api/v1/invalid',
    handle: async () => {
      throw new InvalidArgumentError('appId', 'bad');
    },
  },
  {
    method: 'GET',
    path: '/api/v1/broken',
    handle: () => {
      throw new Error('kaboom');
    },
  },
  {
    method: 'GET',
    path: '/api/v1/text',
    handle: () => ({ text: 'plain', contentType: 'text/csv' }),
  },
];

let service: HttpService | undefined;
let ready: boolean;
let logged: { level: number; msg: string; path?: string }[];
let base: string;

beforeEach(async () => {
  ready = false;
  logged = [];
  const registry = new Registry();
  const counter = new Counter({ name: COUNTER_NAME, help: 'test counter', registers: [registry] });
  counter.inc(3);
  // Captures what the service logs (pino writes synchronously to a plain stream).
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => logged.push(JSON.parse(line)) },
  );
  service = await HttpService.start({
    host: '127.0.0.1',
    port: 0,
    registry,
    ready: () => ready,
    routes: ROUTES,
    logger,
  });
  base = `http://127.0.0.1:${service.port}`;
});

afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function get(path: string, init?: RequestInit) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text,
    headers: res.headers,
  };
}

describe('HttpService', () => {
  it('listens on the port the OS picked', () => {
    expect(service!.port).toBeGreaterThan(0);
  });

  it('serves /metrics from the registry', async () => {
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    expect(res.text).toContain(`# TYPE ${COUNTER_NAME} counter`);
    expect(res.text).toContain(`${COUNTER_NAME} 3`);
  });

  it('answers /healthz with 200', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, text: 'ok\n' });
  });

  it('answers /readyz with 503 until ready, then 200', async () => {
    expect(await get('/readyz')).toMatchObject({ status: 503, text: 'not ready\n' });
    ready = true;
    expect(await get('/readyz')).toMatchObject({ status: 200, text: 'ready\n' });
    ready = false;
    expect((await get('/readyz')).status).toBe(503);
  });

  it.each([
    { path: '/api/v1/things/abc', want: { id: 'abc', q: null } },
    { path: '/api/v1/things/abc?q=1', want: { id: 'abc', q: '1' } },
    { path: '/api/v1/things/a%20b%2Fc', want: { id: 'a b/c', q: null } },
    { path: '/api/v1/things/caf%C3%A9', want: { id: 'café', q: null } },
    { path: '/api/v1/things/abc/', want: { id: 'abc', q: null } },
  ])('decodes the :id param of $path', async ({ path, want }) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.text)).toEqual(want);
  });

  it('captures several params', async () => {
    const res = await get('/api/v1/shuffles/app-1/7');
    expect(JSON.parse(res.text)).toEqual({ appId: 'app-1', shuffleId: '7' });
  });

  it('runs a POST route and uses its status', async () => {
    const res = await get('/api/v1/things', { method: 'POST', body: '{}' });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text)).toEqual({ created: true });
  });

  it('serves text with the route content type', async () => {
    expect(await get('/api/v1/text')).toMatchObject({
      status: 200,
      type: 'text/csv',
      text: 'plain',
    });
  });

  it.each(['/nope', '/api/v1/things/a/b', '/api/v1', '/metricsx'])(
    'answers 404 for the unknown path %s',
    async (path) => {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.text).error.code).toBe('SLUICE_ERR_NOT_FOUND');
    },
  );

  it.each([
    { method: 'GET', path: '/api/v1/things' },
    { method: 'POST', path: '/api/v1/things/abc' },
    { method: 'PUT', path: '/api/v1/things' },
    { method: 'DELETE', path: '/api/v1/things/abc' },
  ])('answers 405 for $method on the known path $path', async ({ method, path }) => {
    const res = await get(path, { method });
    expect(res.status).toBe(405);
    expect(JSON.parse(res.text).error.code).toBe('SLUICE_ERR_UNSUPPORTED');
    // RFC 9110 §15.5.6: a 405 lists the methods the path does support.
    expect(res.headers.get('allow')).toBe(path === '/api/v1/things' ? 'POST' : 'GET');
  });

  it('maps a thrown NotFoundError to 404 with its code, without logging an error', async () => {
    const res = await get('/api/v1/missing');
    expect(res.status).toBe(404);
    expect(res.type).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.text)).toEqual({ error: { code: 'SLUICE_ERR_NOT_FOUND', message: 'x' } });
    expect(logged).toEqual([]);
  });

  it('maps a thrown InvalidArgumentError to 400', async () => {
    const res = await get('/api/v1/invalid');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({
      error: { code: 'SLUICE_ERR_INVALID_ARGUMENT', message: 'appId: bad' },
    });
  });

  it('maps a thrown plain Error to 500 SLUICE_ERR_INTERNAL and logs it', async () => {
    const res = await get('/api/v1/broken');
    expect(res.status).toBe(500);
    expect(JSON.parse(res.text)).toEqual({
      error: { code: 'SLUICE_ERR_INTERNAL', message: 'kaboom' },
    });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 50,
      msg: 'http handler failed',
      path: '/api/v1/broken',
    });
  });

  // A malformed percent-escape in a path parameter is the client's mistake: it should be
  // answered 400, not reported (and logged) as an internal server failure.
  it('answers 400 for a malformed percent-escape in a path parameter', async () => {
    const res = await get('/api/v1/things/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
  });

  it('keeps serving after a handler failure', async () => {
    expect((await get('/api/v1/broken')).status).toBe(500);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('close() is idempotent and stops accepting connections', async () => {
    const s = service!;
    await s.close();
    await s.close();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('refuses to start on a port in use with SLUICE_ERR_UNAVAILABLE', async () => {
    const err = await HttpService.start({
      host: '127.0.0.1',
      port: service!.port,
      registry: new Registry(),
      ready: () => true,
      logger: SILENT_LOGGER,
    }).then(
      (second) => {
        second.destroy();
        throw new Error('second service started on a busy port');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect((err as SluiceError).retriable).toBe(false);
    expect((err as SluiceError).message).toContain(`127.0.0.1:${service!.port}`);
  });
});
