// gRPC plumbing shared by every process: SluiceError <-> gRPC status mapping (the stable
// SLUICE_ERR_* code travels in the `sluice-code` trailer), promisified unary calls with a
// deadline, and a server-side handler wrapper that never lets an exception escape.
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODES, SluiceError, asSluiceError, type ErrorCode } from '../errors.js';
import { DEFAULT_GRPC_MAX_MESSAGE_BYTES } from '../config/registry.js';
import { signedMetadata, type CallSigner } from '../security/call-auth.js';

export { DEFAULT_GRPC_MAX_MESSAGE_BYTES };

/**
 * The one gRPC message size limit (`grpc.maxMessageBytes`, docs/protocol.md#message-size-limits)
 * as channel or server options: every Sluice client and server sends and accepts messages up
 * to `maxBytes` (grpc-js alone would refuse to receive more than 4 MiB).
 */
export function messageSizeOptions(maxBytes: number = DEFAULT_GRPC_MAX_MESSAGE_BYTES): {
  'grpc.max_receive_message_length': number;
  'grpc.max_send_message_length': number;
} {
  return {
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
  };
}

export const CODE_METADATA_KEY = 'sluice-code';
/** Trailer of a SLUICE_ERR_NOT_LEADER answer: the leader's gRPC address, when known. */
export const LEADER_METADATA_KEY = 'sluice-leader';

const GRPC_TO_SLUICE: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'SLUICE_ERR_INVALID_ARGUMENT',
  [grpc.status.NOT_FOUND]: 'SLUICE_ERR_NOT_FOUND',
  [grpc.status.ALREADY_EXISTS]: 'SLUICE_ERR_ALREADY_EXISTS',
  [grpc.status.UNAVAILABLE]: 'SLUICE_ERR_UNAVAILABLE',
  [grpc.status.DEADLINE_EXCEEDED]: 'SLUICE_ERR_TIMEOUT',
  [grpc.status.DATA_LOSS]: 'SLUICE_ERR_SHUFFLE_DATA_LOST',
  [grpc.status.UNAUTHENTICATED]: 'SLUICE_ERR_UNAUTHENTICATED',
  [grpc.status.PERMISSION_DENIED]: 'SLUICE_ERR_UNAUTHORIZED',
};

/** Server side: a thrown error as a gRPC status with the Sluice code in the trailers. */
export function toGrpcError(err: unknown): Partial<grpc.StatusObject> {
  const e = asSluiceError(err);
  const metadata = new grpc.Metadata();
  metadata.set(CODE_METADATA_KEY, e.code);
  const leader = e.context['leader'];
  if (e.code === 'SLUICE_ERR_NOT_LEADER' && typeof leader === 'string')
    metadata.set(LEADER_METADATA_KEY, leader);
  return { code: grpc.status[ERROR_CODES[e.code].grpc], details: e.message, metadata };
}

/** Client side: a gRPC failure as a SluiceError (code from the trailer when the peer is Sluice). */
export function fromGrpcError(err: grpc.ServiceError, what: string): SluiceError {
  const sent = err.metadata?.get(CODE_METADATA_KEY)[0];
  // The trailer is peer input: only an own key of the table counts (not "toString").
  const fromPeer = typeof sent === 'string' && Object.hasOwn(ERROR_CODES, sent);
  const code = fromPeer ? (sent as ErrorCode) : (GRPC_TO_SLUICE[err.code] ?? 'SLUICE_ERR_INTERNAL');
  // A transport failure (no Sluice code: the peer never answered) is transient whatever
  // code it maps to; a Sluice code from the peer keeps its own retriable flag, so e.g. a
  // peer's RETRIES_EXCEEDED is not retried again.
  const transient =
    !fromPeer &&
    (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED);
  const leader = err.metadata?.get(LEADER_METADATA_KEY)[0];
  return new SluiceError(code, `${what}: ${err.details || err.message}`, {
    cause: err,
    retriable: ERROR_CODES[code].retriable || transient,
    context: {
      grpcCode: err.code,
      ...(code === 'SLUICE_ERR_NOT_LEADER' && typeof leader === 'string' ? { leader } : {}),
    },
  });
}

type UnaryMethod<Req, Res> = ((
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: grpc.requestCallback<Res>,
) => grpc.ClientUnaryCall) & { readonly path?: string };

/**
 * Calls one unary method with a deadline; rejects with a SluiceError. With a signer the call
 * carries a credential for the method's path (src/common/security/call-auth.ts).
 */
export function callUnary<Req, Res>(
  client: grpc.Client,
  method: UnaryMethod<Req, Res>,
  name: string,
  request: Req,
  deadlineMs: number,
  signer?: CallSigner,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(
      client,
      request,
      signedMetadata(signer, method.path ?? name),
      { deadline: Date.now() + deadlineMs },
      (err: grpc.ServiceError | null, response?: Res) => {
        if (err) reject(fromGrpcError(err, name));
        else resolve(response as Res);
      },
    );
  });
}

export interface UnaryObserver {
  /** Called once per call with its outcome; used for metrics and logs. */
  (method: string, code: ErrorCode | 'OK', seconds: number, err?: SluiceError): void;
}

/**
 * Wraps an async implementation as a grpc-js unary handler. Whatever the implementation
 * throws becomes a status for that call only: a bad request can never crash the server.
 */
export function unaryHandler<Req, Res>(
  method: string,
  impl: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
  observe: UnaryObserver,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    Promise.resolve()
      .then(() => impl(call.request, call))
      .then(
        (response) => {
          observe(method, 'OK', elapsed());
          callback(null, response);
        },
        (err: unknown) => {
          const e = asSluiceError(err);
          observe(method, e.code, elapsed(), e);
          callback(toGrpcError(e));
        },
      );
  };
}

/** Binds a server on host:port (0 = any free port) and returns the port. */
export function bindServer(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (err, bound) => {
      if (err)
        reject(
          new SluiceError(
            'SLUICE_ERR_UNAVAILABLE',
            `cannot listen on ${host}:${port}: ${err.message}`,
            { cause: err, retriable: false },
          ),
        );
      else resolve(bound);
    });
  });
}

/** Graceful shutdown with a bound: after `timeoutMs` the remaining calls are cancelled. */
export function shutdownServer(server: grpc.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
