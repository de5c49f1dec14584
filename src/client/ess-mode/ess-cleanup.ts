// The driver's side of ESS cleanup (docs/architecture.md#ess-mode): it remembers which node-local
// ESS daemons the map attempts of each shuffle wrote to (MapperEnd's essAddress, winners and
// losers alike), and when a shuffle is unregistered, or the app ends, asks each of them to
// delete those map outputs (REMOVE_OUTPUTS, docs/protocol.md#data-plane-messages). Best
// effort: an ESS that cannot be reached is logged, never a failure of the caller; the outputs
// of an app whose driver never got to say so are left to the node's operator.
import type { AppId } from '../../common/ids.js';
import type { AppCredential } from '../../common/security/keys.js';
import type { ClientTls } from '../../common/security/tls.js';
import {
  ALL_SHUFFLES,
  decodeOutputsRemoved,
  encodeRemoveOutputsFrame,
} from '../../common/wire/index.js';
import { describe } from '../errors.js';
import type { ClientLogger } from '../logger.js';
import { DataConnection } from '../net/data-connection.js';

const REMOVE_TIMEOUT_MS = 10_000;

export class EssCleanup {
  readonly #appId: AppId;
  readonly #credential: () => AppCredential | undefined;
  readonly #tls: ClientTls | undefined;
  readonly #logger: ClientLogger;
  /** shuffleId -> ESS addresses its map attempts wrote to. */
  readonly #byShuffle = new Map<number, Set<string>>();
  /** Every ESS the app wrote to, for the app's end. */
  readonly #all = new Set<string>();

  constructor(o: {
    appId: AppId;
    credential: () => AppCredential | undefined;
    tls?: ClientTls;
    logger: ClientLogger;
  }) {
    this.#appId = o.appId;
    this.#credential = o.credential;
    this.#tls = o.tls;
    this.#logger = o.logger;
  }

  /** A map attempt of `shuffleId` wrote its output to the ESS at `address` (host:port). */
  wrote(shuffleId: number, address: string): void {
    if (!address) return;
    let set = this.#byShuffle.get(shuffleId);
    if (!set) this.#byShuffle.set(shuffleId, (set = new Set()));
    set.add(address);
    this.#all.add(address);
  }

  /** The shuffle is unregistered: its outputs go from every ESS it used. */
  async shuffleEnded(shuffleId: number): Promise<void> {
    const addresses = this.#byShuffle.get(shuffleId);
    this.#byShuffle.delete(shuffleId);
    if (addresses) await this.#removeAll([...addresses], shuffleId);
  }

  /** The app ends: all its outputs go from every ESS it used. */
  async appEnded(): Promise<void> {
    const addresses = [...this.#all];
    this.#all.clear();
    this.#byShuffle.clear();
    await this.#removeAll(addresses, ALL_SHUFFLES);
  }

  async #removeAll(addresses: string[], shuffleId: number): Promise<void> {
    await Promise.all(addresses.map((a) => this.#remove(a, shuffleId)));
  }

  async #remove(address: string, shuffleId: number): Promise<void> {
    const [host, port] = address.split(':');
    const shuffle = shuffleId === ALL_SHUFFLES ? 'all' : shuffleId;
    let conn: DataConnection | undefined;
    try {
      conn = await DataConnection.connect({
        host: host!,
        port: Number(port),
        peer: `ess ${address}`,
        connectTimeoutMs: REMOVE_TIMEOUT_MS,
        maxFrameBytes: 64 * 1024,
        credential: this.#credential(),
        tls: this.#tls,
      });
      const c = conn;
      const answer = await c.request(
        (id) => encodeRemoveOutputsFrame(id, { appId: this.#appId, shuffleId }),
        REMOVE_TIMEOUT_MS,
      );
      const outputs = decodeOutputsRemoved(answer.header);
      this.#logger.info({ ess: address, shuffleId: shuffle, outputs }, 'ESS map outputs removed');
    } catch (err) {
      this.#logger.warn(
        { ess: address, shuffleId: shuffle, err: describe(err) },
        'could not remove map outputs from an ESS; they stay on its node',
      );
    } finally {
      conn?.close();
    }
  }
}
