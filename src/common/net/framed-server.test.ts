// The shared data-plane server against real sockets on port 0: framing errors, pipelining,
// pausing, close() and destroy() (docs/protocol.md#frames, docs/development.md#back-pressure).
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../obs/logger.js';
import { WireStatusCode, type WireStatusName } from '../status-codes.js';
import { FrameDecoder } from '../wire/decoder.js';
import { type Frame, FrameType, encodeFrame } from '../wire/frame.js';
import { decodeError, encodePingFrame } from '../wire/messages.js';
import { WireProtocolError } from '../wire/wire-error.js';
import {
  FramedServer,
  refuseFrame,
  SMALL_FRAME_BYTES,
  type FrameHandler,
  type ReceiveAccounting,
  type FramedConnection,
  type FramedServerOptions,
} from './framed-server.js';
import { RECEIVE_SLAB_BYTES } from './receive-buffers.js';

const MAX_FRAME_BYTES = 64 * 1024;

/** A test client: writes raw bytes, collects every frame the server answers. */
class Client {
  readonly frames: Frame[] = [];
  readonly socket: Socket;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: 1 << 30 });
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.frames.push(...this.#decoder.push(chunk)));
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  static async connect(port: number): Promise<Client> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Client(socket);
  }

  write(parts: readonly Buffer[]): void {
    for (const p of parts) this.socket.write(p);
  }

  async frame(requestId: bigint): Promise<Frame> {
    await expect.poll(() => this.frames.some((f) => f.requestId === requestId)).toBe(true);
    return this.frames.find((f) => f.requestId === requestId)!;
  }
}

/** A request the test handler serves: PUSH with an 8-byte header (delayMs, echo value). */
function request(requestId: bigint, delayMs: number, value: number, body = Buffer.alloc(0)) {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(delayMs, 0);
  header.writeUInt32BE(value, 4);
  return encodeFrame(FrameType.PUSH, 0, requestId, header, body);
}

function answer(requestId: bigint, value: number): Buffer[] {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(value, 0);
  return encodeFrame(FrameType.PUSH_ACK, 0, requestId, header);
}

const servers: FramedServer[] = [];
/** Every test runs twice: with Node's 'data' events, and reading into pooled slabs. */
let pooledReceive = false;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

async function start(extra: Partial<FramedServerOptions> & { paused?: () => boolean } = {}) {
  const errors: WireStatusName[] = [];
  const handled: bigint[] = [];
  const closedHandlers: number[] = [];
  const held = { bytes: 0 };
  const server = new FramedServer({
    host: '127.0.0.1',
    port: 0,
    maxFrameBytes: MAX_FRAME_BYTES,
    pooledReceive,
    logger: SILENT_LOGGER,
    onProtocolError: (s) => errors.push(s),
    accounting: {
      acquire: (n) => (held.bytes += n),
      release: (n) => (held.bytes -= n),
    },
    connect: (conn: FramedConnection): FrameHandler => ({
      async handle(frame) {
        handled.push(frame.requestId);
        if (frame.type !== FrameType.PUSH) throw refuseFrame('the test server', frame);
        const delayMs = frame.header.readUInt32BE(0);
        const value = frame.header.readUInt32BE(4);
        if (value === 0xdead) throw new WireProtocolError('NOT_FOUND', 'no such thing');
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        conn.send(answer(frame.requestId, value));
      },
      pauseReading: extra.paused,
      async close() {
        closedHandlers.push(1);
      },
    }),
    ...extra,
  });
  servers.push(server);
  const port = await server.listen();
  const client = await Client.connect(port);
  clients.push(client);
  return { server, client, port, errors, handled, held, closedHandlers };
}

describe.each([false, true])('FramedServer (pooledReceive: %s)', (pooled) => {
  beforeEach(() => {
    pooledReceive = pooled;
  });
  it('answers a malformed frame with one ERROR under requestId 0 and closes the connection', async () => {
    const { client, errors, held, closedHandlers } = await start();
    const bad = Buffer.alloc(16);
    bad.writeUInt32BE(100, 0);
    bad[4] = 0x53; // no such frame type
    client.write([bad]);
    const err = await client.frame(0n);
    expect(err.type).toBe(FrameType.ERROR);
    expect(decodeError(err.header).status).toBe(WireStatusCode.MALFORMED_FRAME);
    await expect.poll(() => client.closed).toBe(true);
    expect(errors).toEqual(['MALFORMED_FRAME']);
    await expect.poll(() => closedHandlers.length).toBe(1);
    expect(held.bytes).toBe(0);
  });

  it('refuses a frame over maxFrameBytes as soon as its length arrives', async () => {
    const { client, errors } = await start();
    const length = Buffer.alloc(4);
    length.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    client.write([length]);
    const err = await client.frame(0n);
    expect(decodeError(err.header).status).toBe(WireStatusCode.FRAME_TOO_LARGE);
    await expect.poll(() => client.closed).toBe(true);
    expect(errors).toEqual(['FRAME_TOO_LARGE']);
  });

  it('answers pipelined requests under their requestIds, failures included, and PING at once', async () => {
    const { client, errors, held } = await start();
    const frames = [
      ...request(1n, 30, 11),
      ...request(2n, 0, 22),
      ...request(3n, 10, 0xdead),
      ...encodeFrame(FrameType.OPEN_STREAM, 0, 4n, Buffer.alloc(0)),
      ...encodePingFrame(5n, Buffer.from('hello')),
    ];
    // In one write and cut at odd places: the decoder gets frames split across chunks.
    const all = Buffer.concat(frames);
    for (let i = 0; i < all.length; i += 7) client.write([all.subarray(i, i + 7)]);
    const pong = await client.frame(5n);
    expect(pong.type).toBe(FrameType.PONG);
    expect(pong.body.toString()).toBe('hello');
    expect((await client.frame(1n)).header.readUInt32BE(0)).toBe(11);
    expect((await client.frame(2n)).header.readUInt32BE(0)).toBe(22);
    const notFound = await client.frame(3n);
    expect(decodeError(notFound.header).status).toBe(WireStatusCode.NOT_FOUND);
    const refused = await client.frame(4n);
    expect(decodeError(refused.header)).toMatchObject({
      status: WireStatusCode.MALFORMED_FRAME,
      message: expect.stringContaining('OPEN_STREAM'),
    });
    // Answers leave as requests finish: the slow first one last, the PING before it.
    expect(client.frames.map((f) => f.requestId).indexOf(5n)).toBeLessThan(4);
    expect(client.frames.at(-1)!.requestId).toBe(1n);
    expect(errors.sort()).toEqual(['MALFORMED_FRAME', 'NOT_FOUND']);
    expect(client.closed).toBe(false);
    await expect.poll(() => held.bytes).toBe(0);
  });

  // With pooledReceive, a slab is reused once the frames in it were handled: a handler still
  // reading its frame after others finished must see its own bytes (given-back slabs are
  // poisoned in the tests), whatever the frame sizes and however the reads cut them.
  it('hands every frame its own bytes until its handler settles, frames pipelined and cut anyhow', async () => {
    const pattern = (requestId: bigint, length: number) => {
      const body = Buffer.alloc(length);
      for (let i = 0; i < length; i++) body[i] = (Number(requestId) * 31 + i * 7) & 255;
      return body;
    };
    const server = new FramedServer({
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes: 1024 * 1024,
      maxInFlight: 8,
      pooledReceive,
      logger: SILENT_LOGGER,
      connect: (conn) => ({
        async handle(frame) {
          await new Promise((r) => setTimeout(r, Number(frame.requestId % 5n)));
          const same = frame.body.equals(pattern(frame.requestId, frame.bodyLength));
          conn.send(answer(frame.requestId, same ? 1 : 0));
        },
      }),
    });
    servers.push(server);
    const client = await Client.connect(await server.listen());
    clients.push(client);
    const frames = Array.from({ length: 120 }, (_, i) => {
      const id = BigInt(i + 1);
      return request(id, 0, 0, pattern(id, (i * 40_009) % 300_000));
    });
    client.write(frames.flat());
    await expect.poll(() => client.frames.length, { timeout: 10_000 }).toBe(120);
    expect(client.frames.filter((f) => f.header.readUInt32BE(0) !== 1)).toEqual([]);
  });

  // A request that takes long keeps the slabs received after it from being reused: with
  // pooled receive those bytes stay accounted until it is handled (else a slow request
  // could pin any amount of memory the budget never sees); frame by frame without.
  it('accounts the bytes a slow request keeps from being reused until it is handled', async () => {
    let finish = () => undefined as void;
    const slow = new Promise<void>((r) => (finish = r));
    const { client, held } = await start({
      maxFrameBytes: 1024 * 1024,
      connect: (conn) => ({
        async handle(frame) {
          if (frame.requestId === 1n) await slow;
          conn.send(answer(frame.requestId, 1));
        },
      }),
    });
    const body = Buffer.alloc(100_000, 3);
    client.write(request(1n, 0, 1, body));
    for (let i = 2; i <= 41; i++) client.write(request(BigInt(i), 0, 1, body));
    await expect.poll(() => client.frames.length).toBe(40);
    if (pooled) expect(held.bytes).toBeGreaterThanOrEqual(41 * 100_000);
    else expect(held.bytes).toBeLessThan(2 * 100_000);
    finish();
    await client.frame(1n);
    await expect.poll(() => held.bytes).toBe(0);
  });

  it.runIf(pooled)(
    'connections sending only requests hold small slabs, given back once closed',
    async () => {
      const { server, port } = await start();
      const pools = server.receivePools!;
      const extra = await Promise.all([1, 2, 3].map(() => Client.connect(port)));
      for (const [i, c] of extra.entries()) {
        c.write(request(BigInt(i + 1), 0, 7));
        expect((await c.frame(BigInt(i + 1))).header.readUInt32BE(0)).toBe(7);
      }
      for (const c of extra) c.socket.end();
      await expect.poll(() => pools.small.idle).toBeGreaterThanOrEqual(3);
      expect(pools.large.idle).toBe(0);
    },
  );

  it('handles at most maxInFlight requests of a connection at once', async () => {
    let running = 0;
    let most = 0;
    const server = new FramedServer({
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes: MAX_FRAME_BYTES,
      maxInFlight: 2,
      pooledReceive,
      logger: SILENT_LOGGER,
      connect: (conn) => ({
        async handle(frame) {
          most = Math.max(most, ++running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
          conn.send(answer(frame.requestId, 1));
        },
      }),
    });
    servers.push(server);
    const client = await Client.connect(await server.listen());
    clients.push(client);
    client.write([
      Buffer.concat(Array.from({ length: 50 }, (_, i) => request(BigInt(i + 1), 0, 1)).flat()),
    ]);
    await expect.poll(() => client.frames.length).toBe(50);
    expect(most).toBe(2);
  });

  it('stops reading while the pause predicate holds, after the frame in progress, and resumes', async () => {
    let paused = false;
    const { server, client, handled } = await start({ paused: () => paused });
    client.write(request(1n, 0, 1));
    await client.frame(1n);
    paused = true;
    // Half a frame arrives: the connection reads on until that frame is whole, then stops.
    const second = Buffer.concat(request(2n, 0, 2, Buffer.alloc(1000, 1)));
    client.write([second.subarray(0, 500)]);
    await new Promise((r) => setTimeout(r, 50));
    client.write([second.subarray(500)]);
    await client.frame(2n);
    client.write(request(3n, 0, 3));
    await new Promise((r) => setTimeout(r, 100));
    expect(handled).toEqual([1n, 2n]);
    paused = false;
    server.resumeReading();
    expect((await client.frame(3n)).header.readUInt32BE(0)).toBe(3);
    expect(handled).toEqual([1n, 2n, 3n]);
  });

  describe('under memory pressure (docs/development.md#back-pressure)', () => {
    const KiB = 1024;
    /** Accounting whose pause and outside usage the test sets; it counts what the server holds. */
    function pressure() {
      const m = { held: 0, paused: false, elsewhere: 0, budget: 1024 * KiB };
      const accounting: ReceiveAccounting = {
        acquire: (n) => (m.held += n),
        release: (n) => (m.held -= n),
        get paused() {
          return m.paused;
        },
        get usedBytes() {
          return m.held + m.elsewhere;
        },
        get budgetBytes() {
          return m.budget;
        },
      };
      return { m, accounting };
    }
    /** The first `bytes` of a PUSH frame with a `total`-byte body, and the rest. */
    function largePush(requestId: bigint, total: number, bytes: number) {
      const frame = Buffer.concat(request(requestId, 0, Number(requestId), Buffer.alloc(total, 7)));
      return [frame.subarray(0, bytes), frame.subarray(bytes)] as const;
    }

    it('stops reading a large frame in progress at once, lets a small one finish, resumes', async () => {
      const { m, accounting } = pressure();
      const { server, client, port } = await start({ maxFrameBytes: 4096 * KiB, accounting });
      m.paused = true;
      const [head, tail] = largePush(1n, 1024 * KiB, 512 * KiB);
      client.write([head]);
      // Another connection's small request (split mid-frame) is still read and answered.
      const other = await Client.connect(port);
      clients.push(other);
      const small = Buffer.concat(request(2n, 0, 2, Buffer.alloc(8 * KiB, 1)));
      other.write([small.subarray(0, 100)]);
      await expect.poll(() => m.held).toBeGreaterThanOrEqual(100);
      other.write([small.subarray(100)]);
      expect((await other.frame(2n)).header.readUInt32BE(0)).toBe(2);
      // The large frame stopped growing after the chunk that said how large it is: one read,
      // up to 64 KiB with 'data' events, up to a slab's room (asked for before the pause).
      expect(m.held).toBeLessThanOrEqual(pooled ? RECEIVE_SLAB_BYTES : SMALL_FRAME_BYTES);
      expect(server.partialFrameBytes).toBe(m.held);
      m.paused = false;
      server.resumeReading();
      client.write([tail]);
      expect((await client.frame(1n)).header.readUInt32BE(0)).toBe(1);
      await expect.poll(() => m.held).toBe(0);
      expect(server.partialFrameBytes).toBe(0);
    });

    it('refuses the oldest frames in progress past maxPartialBytes or the budget, THROTTLED', async () => {
      const { m, accounting } = pressure();
      const refused: number[] = [];
      const { server, client, port, errors } = await start({
        maxFrameBytes: 4096 * KiB,
        maxPartialBytes: 300 * KiB,
        accounting,
        onRefusedFrame: () => refused.push(1),
      });
      const [oldHead] = largePush(1n, 1024 * KiB, 200 * KiB);
      client.write([oldHead]);
      await expect.poll(() => server.partialFrameBytes).toBe(200 * KiB);
      const young = await Client.connect(port);
      clients.push(young);
      const [youngHead, youngTail] = largePush(2n, 1024 * KiB, 200 * KiB);
      young.write([youngHead]);
      await expect.poll(() => server.partialFrameBytes).toBe(400 * KiB);
      // Memory pauses: 400 KiB in progress is over the 300 KiB share; the oldest goes.
      m.paused = true;
      server.memoryPaused();
      const err = await client.frame(0n);
      expect(decodeError(err.header)).toEqual(
        expect.objectContaining({
          status: WireStatusCode.THROTTLED,
          message: expect.stringContaining('the oldest frame in progress'),
        }),
      );
      await expect.poll(() => client.closed).toBe(true);
      expect(refused).toHaveLength(1);
      expect(errors).toEqual(['THROTTLED']);
      expect(server.partialFrameBytes).toBe(200 * KiB);
      expect(m.held).toBe(200 * KiB); // released at once, not at the connection's end
      expect(young.closed).toBe(false);
      // Memory goes NORMAL: the young frame completes.
      m.paused = false;
      server.resumeReading();
      young.write([youngTail]);
      expect((await young.frame(2n)).header.readUInt32BE(0)).toBe(2);
      // Over the budget itself, even a frame within the share is refused.
      const [head3] = largePush(3n, 1024 * KiB, 100 * KiB);
      young.write([head3]);
      await expect.poll(() => server.partialFrameBytes).toBe(100 * KiB);
      m.elsewhere = m.budget;
      m.paused = true;
      server.memoryPaused();
      await expect.poll(() => young.closed).toBe(true);
      expect(refused).toHaveLength(2);
      expect(m.held).toBe(0);
    });
  });

  it('close() stops accepting, lets an in-flight request finish, then ends the connection', async () => {
    const { server, client, port, closedHandlers, held } = await start();
    client.write(request(1n, 150, 7));
    await expect.poll(() => held.bytes).toBeGreaterThan(0);
    const closing = server.close();
    expect(server.close()).toBe(closing);
    await expect(Client.connect(port)).rejects.toThrow();
    const ack = await client.frame(1n);
    expect(ack.header.readUInt32BE(0)).toBe(7);
    await expect.poll(() => client.closed).toBe(true);
    await closing;
    expect(closedHandlers).toEqual([1]);
    expect(held.bytes).toBe(0);
    expect(server.connections).toBe(0);
  });

  it('close() destroys a connection whose requests do not finish within the grace period', async () => {
    const { server, client } = await start();
    client.write(request(1n, 2_000, 1));
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await server.close(100);
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect.poll(() => client.closed).toBe(true);
    expect(client.frames).toEqual([]);
  });

  it('destroy() aborts at once: connections are cut, answers in progress are lost; idempotent', async () => {
    const { server, client, closedHandlers, held } = await start();
    client.write(request(1n, 100, 1));
    await expect.poll(() => held.bytes).toBeGreaterThan(0);
    server.destroy(new Error('test'));
    server.destroy();
    await expect.poll(() => client.closed).toBe(true);
    await expect.poll(() => closedHandlers.length, { timeout: 2_000 }).toBe(1);
    expect(client.frames).toEqual([]);
    expect(held.bytes).toBe(0);
  });
});
