// The AUTH exchange of data connections over real sockets (docs/protocol.md#authentication):
// a client proves its app key, a connection serves its own app only, and a server that cannot
// prove the key back (an impostor, played here by a fake server that answers any proof) is
// not trusted by the client.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DataConnection } from '../../src/client/net/data-connection.js';
import type { AppId, ShuffleId } from '../../src/common/ids.js';
import { FramedServer } from '../../src/common/net/framed-server.js';
import { SILENT_LOGGER } from '../../src/common/obs/logger.js';
import {
  encodeAuthChallengeFrame,
  encodeAuthOkFrame,
  decodeOpenStream,
  encodeOpenStreamFrame,
  encodePingFrame,
  FrameType,
} from '../../src/common/wire/index.js';
import { ConnectionAuth, isAuthFrame } from '../../src/common/security/data-auth.js';
import { AppCredential, ClusterKeys } from '../../src/common/security/keys.js';

const keys = new ClusterKeys(Buffer.alloc(32, 3));
const appA = keys.mint('app-a' as AppId);

describe('data connection AUTH exchange', () => {
  let server: FramedServer | undefined;
  afterEach(async () => server?.close());

  /** A server whose connections check app `app-a` per ConnectionAuth; counts refusals. */
  async function serve(
    ring: ClusterKeys | null = keys,
    deadlineMs?: number,
  ): Promise<{ port: number; refused: () => number }> {
    let refused = 0;
    server = new FramedServer({
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes: 1024 ** 2,
      logger: SILENT_LOGGER,
      connect: (conn) => {
        const auth = new ConnectionAuth(
          ring ?? undefined,
          () => refused++,
          () => void conn.close(),
          deadlineMs,
        );
        return {
          async handle(frame) {
            if (isAuthFrame(frame)) return void conn.send(auth.answer(frame));
            auth.check(decodeOpenStream(frame.header).appId);
            conn.send(encodePingFrame(frame.requestId, Buffer.from('served')));
          },
        };
      },
    });
    return { port: await server.listen(), refused: () => refused };
  }

  const connect = (port: number, credential = appA) =>
    DataConnection.connect({
      host: '127.0.0.1',
      port,
      peer: 'test',
      connectTimeoutMs: 2_000,
      maxFrameBytes: 1024 ** 2,
      credential,
    });
  const ask = (c: DataConnection, appId: string) =>
    c.request(
      (id) =>
        encodeOpenStreamFrame(id, {
          appId: appId as AppId,
          shuffleId: 0 as ShuffleId,
          partition: 0,
          epoch: 0,
          startChunk: 0,
        }),
      2_000,
    );

  it('binds a connection to the app it proved, refuses the others', async () => {
    const { port, refused } = await serve();
    const c = await connect(port);
    expect((await ask(c, 'app-a')).body.toString()).toBe('served');
    await expect(ask(c, 'app-b')).rejects.toMatchObject({ code: 'SLUICE_ERR_UNAUTHORIZED' });
    expect(refused()).toBe(1);
    c.close();
  });

  it('refuses a wrong key and requests before the exchange', async () => {
    const { port, refused } = await serve();
    const forged = new AppCredential(appA.appId, appA.keyId, randomBytes(32));
    await expect(connect(port, forged)).rejects.toMatchObject({
      code: 'SLUICE_ERR_UNAUTHORIZED',
      message: expect.stringContaining('does not verify'),
    });
    const plain = await DataConnection.connect({
      host: '127.0.0.1',
      port,
      peer: 'test',
      connectTimeoutMs: 2_000,
      maxFrameBytes: 1024 ** 2,
    });
    await expect(ask(plain, 'app-a')).rejects.toMatchObject({
      code: 'SLUICE_ERR_UNAUTHORIZED',
      message: expect.stringContaining('authenticate first'),
    });
    expect(refused()).toBe(2);
    plain.close();
  });

  it('does not trust a server that cannot prove the key (fake server answering any proof)', async () => {
    server = new FramedServer({
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes: 1024 ** 2,
      logger: SILENT_LOGGER,
      connect: (conn) => ({
        async handle(frame) {
          if (frame.type === FrameType.AUTH_HELLO)
            conn.send(encodeAuthChallengeFrame(frame.requestId, randomBytes(32)));
          else conn.send(encodeAuthOkFrame(frame.requestId, randomBytes(32)));
        },
      }),
    });
    const port = await server.listen();
    await expect(connect(port)).rejects.toMatchObject({
      code: 'SLUICE_ERR_UNAUTHENTICATED',
      message: expect.stringContaining('could not prove'),
    });
  });

  it('an open server (no cluster secret) refuses AUTH_HELLO: a client with a credential learns at once', async () => {
    const { port } = await serve(null);
    await expect(connect(port)).rejects.toMatchObject({
      code: 'SLUICE_ERR_UNAUTHORIZED',
      message: expect.stringContaining('without a cluster secret'),
    });
  });

  it('closes a connection that has not authenticated within the deadline', async () => {
    const { port, refused } = await serve(keys, 200);
    const idle = await DataConnection.connect({
      host: '127.0.0.1',
      port,
      peer: 'test',
      connectTimeoutMs: 2_000,
      maxFrameBytes: 1024 ** 2,
    });
    const authenticated = await connect(port);
    await new Promise((r) => setTimeout(r, 600));
    expect(idle.closed).toBe(true);
    expect(authenticated.closed).toBe(false);
    expect((await ask(authenticated, 'app-a')).body.toString()).toBe('served');
    expect(refused()).toBe(1);
    authenticated.close();
  });
});
