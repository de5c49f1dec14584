// FakeNetworkLink: a named fake of the network between clients and one worker's data port,
// for cuts the real loopback cannot make on demand (no firewall in the test environment). It
// is a plain TCP relay; the worker advertises the relay's port (internal config key
// test.advertiseDataPort), so every push and fetch to that worker crosses it. cut() resets
// every connection through it and refuses new ones (as a dropped port would), restore() lets
// connections through again. rewriteAnswers() makes the worker answer wrong bytes on demand
// (a CHUNK without its body, another chunk's bytes): frames from the worker are decoded and
// re-encoded through a function the test gives.
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { FrameDecoder } from '../common/wire/decoder.js';
import { encodeFrame, MAX_FRAME_LENGTH, type Frame } from '../common/wire/frame.js';

/** What the worker's frame becomes: the parts to send instead, or undefined to pass it on. */
export type AnswerRewrite = (frame: Frame) => readonly Buffer[] | undefined;

export class FakeNetworkLink {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #target: { host: string; port: number } | undefined;
  #cut = false;
  #rewrite: AnswerRewrite | undefined;
  /** Connections reset by cut() or refused while cut. */
  resets = 0;

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (s) => this.#relay(s));
  }

  static async listen(host = '127.0.0.1'): Promise<FakeNetworkLink> {
    const server = createServer({ noDelay: true });
    server.listen(0, host);
    await once(server, 'listening');
    return new FakeNetworkLink(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Where connections go (the worker's real data port, known once it started). */
  target(host: string, port: number): void {
    this.#target = { host, port };
  }

  get isCut(): boolean {
    return this.#cut;
  }

  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) this.#reset(s);
  }

  restore(): void {
    this.#cut = false;
  }

  /**
   * Every frame the worker sends on connections made from now on goes through `fn`
   * (undefined: their bytes pass as they are).
   */
  rewriteAnswers(fn: AnswerRewrite | undefined): void {
    this.#rewrite = fn;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #reset(s: Socket): void {
    this.resets++;
    s.resetAndDestroy();
  }

  #relay(inbound: Socket): void {
    if (this.#cut || !this.#target) {
      this.#reset(inbound);
      return;
    }
    const outbound = connect({ ...this.#target, noDelay: true });
    for (const s of [inbound, outbound]) {
      this.#sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.#sockets.delete(s);
        // One side gone: the other goes too (a cut link loses both directions).
        const other = s === inbound ? outbound : inbound;
        if (this.#cut) {
          if (!other.destroyed) this.#reset(other);
        } else other.destroy();
      });
    }
    inbound.pipe(outbound);
    const rewrite = this.#rewrite;
    if (!rewrite) {
      outbound.pipe(inbound);
      return;
    }
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_LENGTH });
    inbound.on('drain', () => outbound.resume());
    outbound.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch {
        inbound.destroy(); // the worker sent something that is not a frame: pass the failure on
        return;
      }
      let full = false;
      for (const f of frames) {
        const parts =
          rewrite(f) ?? encodeFrame(f.type, f.flags, f.requestId, f.header, f.bodyParts);
        for (const part of parts) full = !inbound.write(part) || full;
      }
      if (full) outbound.pause();
    });
    outbound.on('end', () => inbound.end());
  }
}
