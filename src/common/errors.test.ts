import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  ConfigError,
  ERROR_CODES,
  InvalidArgumentError,
  NoWorkersError,
  NotFoundError,
  RetriesExceededError,
  SluiceError,
  StateStoreError,
  asSluiceError,
  isRetriable,
  type ErrorCode,
} from './errors.js';

describe('ERROR_CODES', () => {
  const entries = Object.entries(ERROR_CODES);

  it.each(entries)('%s: key equals code, SLUICE_ERR_ prefix, documented', (key, info) => {
    expect(info.code).toBe(key);
    expect(key).toMatch(/^SLUICE_ERR_[A-Z0-9_]+$/);
    expect(info.doc.length).toBeGreaterThan(0);
    expect(typeof info.retriable).toBe('boolean');
    // The gRPC status name must exist, or toGrpcError would send `undefined` as the status.
    expect(typeof grpc.status[info.grpc]).toBe('number');
  });

  it('is frozen, entries too', () => {
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
    for (const info of Object.values(ERROR_CODES)) expect(Object.isFrozen(info)).toBe(true);
  });

  it('has unique codes', () => {
    const codes = Object.values(ERROR_CODES).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('SluiceError subclasses', () => {
  const cause = new Error('root cause');
  it.each<{ err: SluiceError; name: string; code: ErrorCode; retriable: boolean }>([
    {
      err: new InvalidArgumentError('appId', 'bad'),
      name: 'InvalidArgumentError',
      code: 'SLUICE_ERR_INVALID_ARGUMENT',
      retriable: false,
    },
    {
      err: new ConfigError('manager.grpcPort', 'bad'),
      name: 'ConfigError',
      code: 'SLUICE_ERR_CONFIG',
      retriable: false,
    },
    {
      err: new NotFoundError('no such app'),
      name: 'NotFoundError',
      code: 'SLUICE_ERR_NOT_FOUND',
      retriable: false,
    },
    {
      err: new AlreadyExistsError('dup'),
      name: 'AlreadyExistsError',
      code: 'SLUICE_ERR_ALREADY_EXISTS',
      retriable: false,
    },
    {
      err: new NoWorkersError('none'),
      name: 'NoWorkersError',
      code: 'SLUICE_ERR_NO_WORKERS',
      retriable: true,
    },
    {
      err: new StateStoreError('disk'),
      name: 'StateStoreError',
      code: 'SLUICE_ERR_STATE_STORE',
      retriable: false,
    },
    {
      err: new RetriesExceededError(3, cause),
      name: 'RetriesExceededError',
      code: 'SLUICE_ERR_RETRIES_EXCEEDED',
      retriable: false,
    },
    {
      err: new SluiceError('SLUICE_ERR_TIMEOUT', 'slow'),
      name: 'SluiceError',
      code: 'SLUICE_ERR_TIMEOUT',
      retriable: true,
    },
  ])('$name has code $code, retriable $retriable', ({ err, name, code, retriable }) => {
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(err.code).toBe(code);
    expect(err.retriable).toBe(retriable);
    expect(err.retriable).toBe(ERROR_CODES[code].retriable);
    expect(Object.isFrozen(err.context)).toBe(true);
    expect(err.stack).toContain(name);
  });

  it('keeps cause and context', () => {
    const root = new Error('EIO');
    const err = new StateStoreError('write failed', {
      cause: root,
      context: { workerId: 'w1', partition: 7 },
    });
    expect(err.cause).toBe(root);
    expect(err.context).toEqual({ workerId: 'w1', partition: 7 });
    expect(err.message).toBe('write failed');
  });

  it('copies the context, so later changes to the caller object do not leak in', () => {
    const context: Record<string, unknown> = { workerId: 'w1' };
    const err = new NotFoundError('gone', { context });
    context['workerId'] = 'w2';
    expect(err.context).toEqual({ workerId: 'w1' });
  });

  it('has no cause property when none is given', () => {
    const err = new NotFoundError('gone');
    expect('cause' in err).toBe(false);
    expect(err.context).toEqual({});
  });

  it.each([
    { code: 'SLUICE_ERR_INTERNAL' as const, override: true },
    { code: 'SLUICE_ERR_UNAVAILABLE' as const, override: false },
  ])('retriable can be overridden ($code → $override)', ({ code, override }) => {
    expect(new SluiceError(code, 'x', { retriable: override }).retriable).toBe(override);
  });
});

describe('InvalidArgumentError', () => {
  it('starts its message with the field and records it', () => {
    const err = new InvalidArgumentError('request.appId', 'must be a non-empty string');
    expect(err.message).toBe('request.appId: must be a non-empty string');
    expect(err.field).toBe('request.appId');
    expect(err.context).toEqual({ field: 'request.appId' });
  });

  it('merges the field into caller context', () => {
    const err = new InvalidArgumentError('partition', 'too large', { context: { workerId: 'w' } });
    expect(err.context).toEqual({ workerId: 'w', field: 'partition' });
  });
});

describe('ConfigError', () => {
  it('starts its message with the key and records it', () => {
    const err = new ConfigError('manager.grpcPort', 'must be <= 65535, got 70000');
    expect(err.message).toBe('manager.grpcPort: must be <= 65535, got 70000');
    expect(err.key).toBe('manager.grpcPort');
    expect(err.context).toEqual({ key: 'manager.grpcPort' });
  });
});

describe('RetriesExceededError', () => {
  it('wraps the last failure and the attempt count', () => {
    const last = new SluiceError('SLUICE_ERR_UNAVAILABLE', 'connection refused');
    const err = new RetriesExceededError(4, last, 'RegisterWorker');
    expect(err.attempts).toBe(4);
    expect(err.cause).toBe(last);
    expect(err.context).toEqual({ attempts: 4 });
    expect(err.message).toBe('RegisterWorker failed after 4 attempts: connection refused');
    expect(err.retriable).toBe(false);
  });

  it.each([
    { cause: new Error('boom'), want: 'operation failed after 2 attempts: boom' },
    { cause: 'a string', want: 'operation failed after 2 attempts: a string' },
    { cause: undefined, want: 'operation failed after 2 attempts: undefined' },
  ])('describes a $cause cause', ({ cause, want }) => {
    const err = new RetriesExceededError(2, cause);
    expect(err.message).toBe(want);
    expect(err.cause).toBe(cause);
  });
});

describe('asSluiceError', () => {
  it('turns a plain Error into SLUICE_ERR_INTERNAL keeping message and cause', () => {
    const plain = new TypeError('x is undefined');
    const err = asSluiceError(plain);
    expect(err).toBeInstanceOf(SluiceError);
    expect(err.code).toBe('SLUICE_ERR_INTERNAL');
    expect(err.message).toBe('x is undefined');
    expect(err.cause).toBe(plain);
    expect(err.retriable).toBe(false);
  });

  it('returns a SluiceError unchanged', () => {
    const err = new NoWorkersError('none');
    expect(asSluiceError(err)).toBe(err);
  });

  it.each([
    { thrown: 'a string', message: 'a string' },
    { thrown: 42, message: '42' },
    { thrown: undefined, message: 'undefined' },
    { thrown: null, message: 'null' },
  ])('wraps a thrown non-Error $thrown', ({ thrown, message }) => {
    const err = asSluiceError(thrown);
    expect(err.code).toBe('SLUICE_ERR_INTERNAL');
    expect(err.message).toBe(message);
  });
});

describe('isRetriable', () => {
  it.each<{ err: unknown; want: boolean }>([
    { err: new NoWorkersError('none'), want: true },
    { err: new SluiceError('SLUICE_ERR_UNAVAILABLE', 'down'), want: true },
    { err: new SluiceError('SLUICE_ERR_UNAVAILABLE', 'down', { retriable: false }), want: false },
    { err: new NotFoundError('gone'), want: false },
    { err: new RetriesExceededError(10, new NoWorkersError('none')), want: false },
    { err: new Error('plain'), want: false },
    { err: Object.assign(new Error('looks retriable'), { retriable: true }), want: false },
    { err: 'string', want: false },
    { err: undefined, want: false },
  ])('$err → $want', ({ err, want }) => {
    expect(isRetriable(err)).toBe(want);
  });
});
