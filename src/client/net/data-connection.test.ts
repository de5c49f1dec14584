// DataConnection against a real socket whose peer never reads: the case that used to hang.
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
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

async function silentPeer(): Promise<number> {
  server = createServer((socket) => {
    socket.pause(); // never reads: the client's socket buffer fills up
    peers.push(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
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
