// Pooled receive (receive-buffers.ts): which slabs a connection may reuse, and the moved
// socket handle on a real loopback connection. The framed server's own tests run every case
// with pooledReceive too (framed-server.test.ts).
import { createServer, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  adoptSocket,
  MIN_READ_BYTES,
  RECEIVE_SLAB_BYTES,
  ReceiveBuffers,
  ReceivePools,
  SMALL_SLAB_BYTES,
} from './receive-buffers.js';

/** Reads `n` bytes into the buffers as a socket would: the view the callback gets. */
function read(buffers: ReceiveBuffers, n: number): Buffer {
  const room = buffers.nextBuffer();
  expect(room.length).toBeGreaterThanOrEqual(n);
  return buffers.filled(n, room);
}

describe('ReceiveBuffers', () => {
  /** Buffers already moved to large slabs (a first read of half a small slab or more). */
  function large(pools: ReceivePools, smallReads?: () => boolean): ReceiveBuffers {
    const buffers = new ReceiveBuffers(pools, smallReads);
    read(buffers, SMALL_SLAB_BYTES / 2);
    return buffers;
  }

  it('starts on a small slab, enough for requests; a large read moves it to large slabs', () => {
    const pools = new ReceivePools();
    const buffers = new ReceiveBuffers(pools);
    for (let i = 0; i < 3; i++) read(buffers, 100); // requests: one small slab
    expect(buffers.nextBuffer().length).toBe(SMALL_SLAB_BYTES - 300);
    expect(buffers.slabs).toBe(1);
    read(buffers, SMALL_SLAB_BYTES / 2);
    expect(buffers.nextBuffer().length).toBe(RECEIVE_SLAB_BYTES);
    expect(buffers.slabs).toBe(2);
  });

  it('reads into the rest of the current slab, then a new one once less than a read is left', () => {
    const buffers = large(new ReceivePools({ largeSlabBytes: 256 * 1024 }));
    const a = read(buffers, 100_000);
    const b = read(buffers, 100_000);
    expect(b.buffer).toBe(a.buffer); // 56 KiB would be left after b: next read moves on
    expect(b.byteOffset).toBe(a.byteOffset + 100_000);
    const c = read(buffers, 10);
    expect(c.buffer).not.toBe(a.buffer);
    expect(buffers.received).toBe(SMALL_SLAB_BYTES / 2 + 200_010);
  });

  it('gives a slab back only once the lowest offset in use is past its end', () => {
    const pools = new ReceivePools({ largeSlabBytes: 128 * 1024 });
    const buffers = large(pools); // small slab: [0, 8192)
    read(buffers, 100_000); // large slab 1: [8192, 108192)
    read(buffers, 70_000); // slab 2 (slab 1 had less than a read left): [108192, 178192)
    read(buffers, 100_000); // slab 3 (so had slab 2)
    expect(buffers.slabs).toBe(4);
    buffers.release(108_191); // a frame still begins in slab 1
    expect([buffers.slabs, pools.small.idle, pools.large.idle]).toEqual([3, 1, 0]);
    buffers.release(108_192); // slab 1 done
    expect([buffers.slabs, pools.large.idle]).toEqual([2, 1]);
    buffers.release(1e9); // the current slab is never given back
    expect([buffers.slabs, pools.large.idle]).toEqual([1, 2]);
  });

  it('reads at most MIN_READ_BYTES while small reads are asked for (memory paused)', () => {
    let paused = false;
    const buffers = large(new ReceivePools(), () => paused);
    expect(buffers.nextBuffer().length).toBeGreaterThan(MIN_READ_BYTES);
    paused = true;
    expect(buffers.nextBuffer().length).toBe(MIN_READ_BYTES);
  });

  it('a closing connection reuses nothing until giveBack (socket closed, requests settled)', () => {
    const pools = new ReceivePools();
    const buffers = large(pools);
    const held = read(buffers, 10);
    read(buffers, 200_000);
    buffers.stop();
    buffers.release(1e9);
    expect(pools.large.idle).toBe(0);
    // What the peer still sends while the connection drains goes elsewhere.
    expect(buffers.nextBuffer().buffer).not.toBe(held.buffer);
    buffers.giveBack();
    expect([buffers.slabs, pools.small.idle, pools.large.idle]).toEqual([0, 1, 1]);
  });

  it('poisons slabs given back in the test suite, so a view kept too long reads garbage', () => {
    // vitest.config.ts sets TEST_POISON_RECEIVE_BUFFERS=1 for every test (and the daemons
    // they start): a handler that keeps frame bytes past its handling fails loudly.
    expect(process.env.TEST_POISON_RECEIVE_BUFFERS).toBe('1');
    const pool = new ReceivePools().large;
    const slab = pool.take().fill(1);
    pool.give(slab);
    expect(slab.every((b) => b === 0xee)).toBe(true);
  });
});

describe('adoptSocket', () => {
  it('moves an accepted handle to a socket reading into the slabs; the server still closes', async () => {
    const pools = new ReceivePools();
    const got: Buffer[] = [];
    let adopted: Socket | undefined;
    let remote: string | undefined;
    const server = createServer({ pauseOnConnect: true }, (accepted) => {
      const buffers = new ReceiveBuffers(pools);
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
