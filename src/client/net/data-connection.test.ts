// DataConnection against real sockets: a peer that never reads (the case that used to hang),
// one answering pipelined requests of every size, one whose answer breaks framing.
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
import { SluiceError } from '../../common/errors.js';
import { encodeFrame, FrameDecoder, FrameType } from '../../common/wire/index.js';
import { DataConnection } from './data-connection.js';

let server: Server | undefined;
const peers: Socket[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  server?.close();
  if (server) await once(server, 'close');
  server = undefined;
});

async function connectToSilentPeer(): Promise<DataConnection> {
  const port = await silentPeer();
  return DataConnection.connect({
    host: '127.0.0.1',
    port,
    peer: 'silent',
    connectTimeoutMs: 2_000,
    maxFrameBytes: 1024,
  });
}

/** A server on 127.0.0.1 running `onSocket` for each connection: its port. */
async function peer(onSocket: (socket: Socket) => void): Promise<number> {
  server = createServer((socket) => {
    peers.push(socket);
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

function silentPeer(): Promise<number> {
  return peer((socket) => socket.pause()); // never reads: the client's socket buffer fills up
}

// Regression: the deadline started only after the socket drained, so requests queued behind
// a peer that stopped reading never settled, and close() did not wake them.
it('requests to a peer that stops reading all time out, and the connection is dropped', async () => {
  const conn = await connectToSilentPeer();
  const big = Buffer.alloc(4 * 1024 * 1024);
  const started = Date.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: 16 }, () => conn.request(() => [big], 300, 'SLUICE_ERR_PUSH_TIMEOUT')),
  );
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
  const codes = new Set(outcomes.map((o) => (o as PromiseRejectedResult).reason.code));
  expect(codes).toEqual(new Set(['SLUICE_ERR_PUSH_TIMEOUT']));
  expect(conn.closed).toBe(true);
});

it('close() fails requests waiting for socket space at once', async () => {
  const conn = await connectToSilentPeer();
  const big = Buffer.alloc(8 * 1024 * 1024);
  const pending = Array.from({ length: 8 }, () => conn.request(() => [big], 60_000));
  await new Promise((r) => setImmediate(r));
  conn.close();
  const outcomes = await Promise.allSettled(pending);
  expect(outcomes.map((o) => o.status)).toEqual(Array(8).fill('rejected'));
  expect((outcomes[7] as PromiseRejectedResult).reason.code).toBe('SLUICE_ERR_UNAVAILABLE');
});

/** A peer answering each PING (header: the body size wanted, u32) with a PONG of that size. */
function sizedAnswerPeer(): Promise<number> {
  return peer((socket) => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        const size = f.header.readUInt32BE(0);
        const body = Buffer.allocUnsafe(size);
        for (let i = 0; i < size; i++) body[i] = (i + size) & 0xff;
        for (const part of encodeFrame(FrameType.PONG, 0, f.requestId, Buffer.alloc(0), body))
          socket.write(part);
      }
    });
  });
}

it('receives pipelined answers of every size intact over a real socket', async () => {
  const port = await sizedAnswerPeer();
  const conn = await DataConnection.connect({
    host: '127.0.0.1',
    port,
    peer: 'sized',
    connectTimeoutMs: 2_000,
    maxFrameBytes: 16 * 1024 * 1024,
  });
  const sizes = Array.from({ length: 40 }, (_, i) =>
    i % 4 === 0 ? 8 * 1024 * 1024 + i : i % 4 === 1 ? i : i % 4 === 2 ? 0 : 65_536 * 3 + i,
  );
  const answers = await Promise.all(
    sizes.map((size) =>
      conn.request((id) => {
        const header = Buffer.alloc(4);
        header.writeUInt32BE(size);
        return encodeFrame(FrameType.PING, 0, id, header, Buffer.alloc(0));
      }, 30_000),
    ),
  );
  answers.forEach((frame, i) => {
    const size = sizes[i]!;
    expect(frame.bodyLength).toBe(size);
    const body = frame.body;
    let ok = true;
    for (let j = 0; j < size && ok; j++) ok = body[j] === ((j + size) & 0xff);
    expect(ok).toBe(true);
  });
  conn.close();
});

it('an answer that breaks framing fails the requests and drops the connection', async () => {
  const port = await peer((socket) => {
    socket.once('data', () => {
      const prefix = Buffer.alloc(16); // frameLength 20, type 99: no such frame type
      prefix.writeUInt32BE(20, 0);
      prefix[4] = 99;
      socket.write(prefix);
    });
  });
  const conn = await DataConnection.connect({
    host: '127.0.0.1',
    port,
    peer: 'garbled',
    connectTimeoutMs: 2_000,
    maxFrameBytes: 1024,
  });
  const err = await conn
    .request((id) => encodeFrame(FrameType.PING, 0, id, Buffer.alloc(0), Buffer.alloc(0)), 5_000)
    .catch((e: unknown) => e as SluiceError);
  expect(err).toBeInstanceOf(SluiceError);
  expect((err as SluiceError).code).toBe('SLUICE_ERR_UNAVAILABLE');
  expect((err as SluiceError).message).toMatch(/undecodable answer: .*unknown frame type/);
  expect(conn.closed).toBe(true);
});
