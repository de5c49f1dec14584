import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  InvalidArgumentError,
  NotFoundError,
  SluiceError,
  type ErrorCode,
} from '../errors.js';
import {
  CODE_METADATA_KEY,
  bindServer,
  callUnary,
  fromGrpcError,
  shutdownServer,
  toGrpcError,
  unaryHandler,
  type UnaryObserver,
} from './rpc.js';

/** What a grpc-js client hands its callback: an Error with code, details and metadata. */
function serviceError(code: grpc.status, details: string, metadata?: grpc.Metadata) {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), {
    code,
    details,
    metadata,
  }) as grpc.ServiceError;
}

/** The client-side view of what toGrpcError sends. */
function received(status: Partial<grpc.StatusObject>): grpc.ServiceError {
  return serviceError(status.code!, status.details!, status.metadata);
}

describe('toGrpcError', () => {
  it('sends an InvalidArgumentError as INVALID_ARGUMENT with the sluice-code trailer', () => {
    const status = toGrpcError(new InvalidArgumentError('app_id', 'bad'));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.code).toBe(3);
    expect(status.details).toBe('app_id: bad');
    expect(status.metadata!.get(CODE_METADATA_KEY)).toEqual(['SLUICE_ERR_INVALID_ARGUMENT']);
  });

  it('sends a plain Error as INTERNAL', () => {
    const status = toGrpcError(new Error('bug'));
    expect(status.code).toBe(grpc.status.INTERNAL);
    expect(status.details).toBe('bug');
    expect(status.metadata!.get(CODE_METADATA_KEY)).toEqual(['SLUICE_ERR_INTERNAL']);
  });

  it.each(Object.values(ERROR_CODES).map((e) => [e.code as ErrorCode, e.grpc] as const))(
    '%s → gRPC %s',
    (code, grpcName) => {
      const status = toGrpcError(new SluiceError(code, 'm'));
      expect(status.code).toBe(grpc.status[grpcName]);
      expect(status.metadata!.get(CODE_METADATA_KEY)).toEqual([code]);
    },
  );
});

describe('fromGrpcError', () => {
  it('reads the code back from the trailer', () => {
    const err = received(toGrpcError(new InvalidArgumentError('app_id', 'bad')));
    const back = fromGrpcError(err, 'RegisterApp');
    expect(back).toBeInstanceOf(SluiceError);
    expect(back.code).toBe('SLUICE_ERR_INVALID_ARGUMENT');
    expect(back.retriable).toBe(false);
    expect(back.message).toBe('RegisterApp: app_id: bad');
    expect(back.cause).toBe(err);
    expect(back.context).toEqual({ grpcCode: grpc.status.INVALID_ARGUMENT });
  });

  // The code and its retriable flag survive the trip. A peer's SLUICE_ERR_RETRIES_EXCEEDED
  // (sent as UNAVAILABLE) must stay non-retriable, or every caller retries an operation the
  // peer already retried to exhaustion (10 × 10 attempts).
  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('round-trips %s', (code) => {
    const back = fromGrpcError(received(toGrpcError(new SluiceError(code, 'm'))), 'Call');
    expect(back.code).toBe(code);
    expect(back.retriable).toBe(ERROR_CODES[code].retriable);
  });

  it.each<{ name: string; metadata: grpc.Metadata | undefined }>([
    { name: 'no metadata', metadata: undefined },
    { name: 'empty metadata', metadata: new grpc.Metadata() },
  ])('maps a plain UNAVAILABLE with $name to SLUICE_ERR_UNAVAILABLE, retriable', ({ metadata }) => {
    const err = serviceError(grpc.status.UNAVAILABLE, 'No connection established', metadata);
    const back = fromGrpcError(err, 'Heartbeat');
    expect(back.code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect(back.retriable).toBe(true);
    expect(back.message).toBe('Heartbeat: No connection established');
    expect(back.context).toEqual({ grpcCode: grpc.status.UNAVAILABLE });
  });

  it.each<{ status: grpc.status; code: ErrorCode; retriable: boolean }>([
    { status: grpc.status.DEADLINE_EXCEEDED, code: 'SLUICE_ERR_TIMEOUT', retriable: true },
    { status: grpc.status.INVALID_ARGUMENT, code: 'SLUICE_ERR_INVALID_ARGUMENT', retriable: false },
    { status: grpc.status.NOT_FOUND, code: 'SLUICE_ERR_NOT_FOUND', retriable: false },
    { status: grpc.status.ALREADY_EXISTS, code: 'SLUICE_ERR_ALREADY_EXISTS', retriable: false },
    { status: grpc.status.DATA_LOSS, code: 'SLUICE_ERR_SHUFFLE_DATA_LOST', retriable: false },
    { status: grpc.status.INTERNAL, code: 'SLUICE_ERR_INTERNAL', retriable: false },
    { status: grpc.status.UNKNOWN, code: 'SLUICE_ERR_INTERNAL', retriable: false },
    { status: grpc.status.CANCELLED, code: 'SLUICE_ERR_INTERNAL', retriable: false },
    { status: grpc.status.UNIMPLEMENTED, code: 'SLUICE_ERR_INTERNAL', retriable: false },
  ])('maps gRPC $status without a trailer to $code', ({ status, code, retriable }) => {
    const back = fromGrpcError(serviceError(status, 'x'), 'Call');
    expect(back.code).toBe(code);
    expect(back.retriable).toBe(retriable);
  });

  // The trailer comes from the network: only real SLUICE_ERR_* codes may be trusted, not
  // names that happen to be inherited properties of a plain object.
  it.each(['SLUICE_ERR_BOGUS', '', 'toString', 'constructor', '__proto__'])(
    'ignores the untrusted trailer value %j and falls back to the gRPC status',
    (sent) => {
      const metadata = new grpc.Metadata();
      metadata.set(CODE_METADATA_KEY, sent);
      const back = fromGrpcError(serviceError(grpc.status.NOT_FOUND, 'x', metadata), 'Call');
      expect(back.code).toBe('SLUICE_ERR_NOT_FOUND');
      expect(back.retriable).toBe(false);
    },
  );

  it('uses the error message when details are empty', () => {
    const err = serviceError(grpc.status.UNAVAILABLE, '');
    expect(fromGrpcError(err, 'Call').message).toBe(`Call: ${err.message}`);
  });
});

describe('unaryHandler + callUnary over a real connection', () => {
  const bytes = (b: Buffer) => b;
  const ECHO: grpc.ServiceDefinition = {
    echo: {
      path: '/sluice.test.Echo/Echo',
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    },
  };
  const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo');
  type EchoMethod = Parameters<typeof callUnary<Buffer, Buffer>>[1];

  let server: grpc.Server | undefined;
  let client: grpc.Client | undefined;

  afterEach(async () => {
    client?.close();
    client = undefined;
    if (server) await shutdownServer(server, 1_000);
    server = undefined;
  });

  async function start(impl: (req: Buffer) => Buffer | Promise<Buffer>, observe: UnaryObserver) {
    server = new grpc.Server();
    server.addService(ECHO, { echo: unaryHandler<Buffer, Buffer>('Echo', impl, observe) });
    const port = await bindServer(server, '127.0.0.1', 0);
    client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const echo = (client as unknown as { echo: EchoMethod }).echo;
    return (req: Buffer) => callUnary(client!, echo, 'Echo', req, 5_000);
  }

  it('returns the response and observes OK', async () => {
    const seen: [string, string][] = [];
    const call = await start(
      (req) => Buffer.concat([req, req]),
      (method, code) => seen.push([method, code]),
    );
    expect((await call(Buffer.from('ab'))).toString()).toBe('abab');
    expect(seen).toEqual([['Echo', 'OK']]);
  });

  it.each<{ thrown: unknown; code: ErrorCode; message: string }>([
    {
      thrown: new InvalidArgumentError('app_id', 'bad'),
      code: 'SLUICE_ERR_INVALID_ARGUMENT',
      message: 'Echo: app_id: bad',
    },
    {
      thrown: new NotFoundError('no such app'),
      code: 'SLUICE_ERR_NOT_FOUND',
      message: 'Echo: no such app',
    },
    { thrown: new Error('bug'), code: 'SLUICE_ERR_INTERNAL', message: 'Echo: bug' },
  ])(
    'delivers a thrown $code to the caller and the observer',
    async ({ thrown, code, message }) => {
      const seen: [string, string][] = [];
      const call = await start(
        () => {
          throw thrown;
        },
        (method, c) => seen.push([method, c]),
      );
      const err = await call(Buffer.from('x')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SluiceError);
      expect((err as SluiceError).code).toBe(code);
      expect((err as SluiceError).message).toBe(message);
      expect(seen).toEqual([['Echo', code]]);
    },
  );

  it('reports an unreachable peer as retriable SLUICE_ERR_UNAVAILABLE', async () => {
    const probe = new grpc.Server();
    const port = await bindServer(probe, '127.0.0.1', 0);
    await shutdownServer(probe, 1_000);
    client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const echo = (client as unknown as { echo: EchoMethod }).echo;
    const err = await callUnary(client, echo, 'Echo', Buffer.from('x'), 5_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as SluiceError).code).toBe('SLUICE_ERR_UNAVAILABLE');
    expect((err as SluiceError).retriable).toBe(true);
  });
});
