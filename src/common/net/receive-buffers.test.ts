// Pooled receive (receive-buffers.ts): which slabs a connection may reuse, and the moved
// socket handle on a real loopback connection. The framed server's own tests run every case
// with pooledReceive too (framed-server.test.ts).
import { createServer, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { adoptSocket, MIN_READ_BYTES, ReceiveBuffers, ReceivePool } from './receive-buffers.js';

/** Reads `n` bytes into the buffers as a socket would: the view the callback gets. */
function read(buffers: ReceiveBuffers, n: number): Buffer {
  const room = buffers.nextBuffer();
  expect(room.length).toBeGreaterThanOrEqual(n);
  return buffers.filled(n, room);
}

describe('ReceiveBuffers', () => {
  it('reads into the rest of the current slab, then a new one once less than a read is left', () => {
    const pool = new ReceivePool({ slabBytes: 256 * 1024 });
    const buffers = new ReceiveBuffers(pool);
    const a = read(buffers, 100_000);
    const b = read(buffers, 100_000);
    expect(b.buffer).toBe(a.buffer); // 56 KiB would be left after b: next read moves on
    expect(b.byteOffset).toBe(a.byteOffset + 100_000);
    const c = read(buffers, 10);
    expect(c.buffer).not.toBe(a.buffer);
    expect(buffers.slabs).toBe(2);
    expect(buffers.received).toBe(200_010);
  });

  it('gives a slab back only once the lowest offset in use is past its end', () => {
    const pool = new ReceivePool({ slabBytes: 128 * 1024 });
    const buffers = new ReceiveBuffers(pool);
    read(buffers, 100_000); // slab 1: [0, 100000)
    read(buffers, 70_000); // slab 2 (slab 1 had less than a read left): [100000, 170000)
    read(buffers, 100_000); // slab 3 (so had slab 2): [170000, 270000)
    expect(buffers.slabs).toBe(3);
    buffers.release(99_999); // a frame still begins in slab 1
    expect(buffers.slabs).toBe(3);
    expect(pool.idle).toBe(0);
    buffers.release(100_000); // slab 1 done
    expect([buffers.slabs, pool.idle]).toEqual([2, 1]);
    buffers.release(1e9); // the current slab is never given back
    expect([buffers.slabs, pool.idle]).toEqual([1, 2]);
  });

  it('reads at most MIN_READ_BYTES while small reads are asked for (memory paused)', () => {
    let paused = false;
    const buffers = new ReceiveBuffers(new ReceivePool(), () => paused);
    expect(buffers.nextBuffer().length).toBeGreaterThan(MIN_READ_BYTES);
    paused = true;
    expect(buffers.nextBuffer().length).toBe(MIN_READ_BYTES);
  });

  it('never reuses the slabs of an abandoned connection', () => {
    const pool = new ReceivePool();
    const buffers = new ReceiveBuffers(pool);
    const held = read(buffers, 10);
    read(buffers, 250_000);
    buffers.abandon();
    buffers.release(1e9);
    expect(pool.idle).toBe(0);
    expect(buffers.nextBuffer().buffer).not.toBe(held.buffer);
  });

  it('poisons slabs given back in the test suite, so a view kept too long reads garbage', () => {
    // vitest.config.ts sets TEST_POISON_RECEIVE_BUFFERS=1 for every test (and the daemons
    // they start): a handler that keeps frame bytes past its handling fails loudly.
    expect(process.env.TEST_POISON_RECEIVE_BUFFERS).toBe('1');
    const pool = new ReceivePool();
    const slab = pool.take().fill(1);
    pool.give(slab);
    expect(slab.every((b) => b === 0xee)).toBe(true);
  });
});

describe('adoptSocket', () => {
  it('moves an accepted handle to a socket reading into the slabs; the server still closes', async () => {
    const pool = new ReceivePool();
    const got: Buffer[] = [];
    let adopted: Socket | undefined;
    let remote: string | undefined;
    const server = createServer({ pauseOnConnect: true }, (accepted) => {
      const buffers = new ReceiveBuffers(pool);
      adopted = adoptSocket(accepted, buffers, (chunk) => got.push(Buffer.from(chunk)));
      remote = adopted!.remoteAddress;
      adopted!.on('end', () => adopted!.end('bye'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const client = connect(port, '127.0.0.1');
    const answer: Buffer[] = [];
    client.on('data', (d: Buffer) => answer.push(d));
    const sent = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < sent.length; i += 4) sent.writeUInt32BE(i, i);
    client.end(sent);
    await new Promise((r) => client.once('close', r));
    expect(Buffer.concat(got).equals(sent)).toBe(true);
    expect(Buffer.concat(answer).toString()).toBe('bye');
    expect(remote).toBe('127.0.0.1');
    // The old Socket gave up the handle: the server is not left waiting for it.
    await new Promise<void>((resolve, reject) =>
      server.close((err) => (err ? reject(err) : resolve())),
    );
  });
});
