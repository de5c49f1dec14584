// The AUTH exchange of data connections (src/common/wire/auth-messages.ts says the bytes;
// docs/operations.md#security the why). A worker's or ESS's connection starts unauthenticated;
// AUTH_HELLO and AUTH_PROOF bind it to one app, and every later request must be for that app.
// With no cluster secret (an open cluster) connections are not authenticated at all.
import { randomBytes } from 'node:crypto';
import { SluiceError } from '../errors.js';
import type { AppId } from '../ids.js';
import {
  AUTH_NONCE_BYTES,
  decodeAuthChallenge,
  decodeAuthHello,
  decodeAuthOk,
  decodeAuthProof,
  encodeAuthChallengeFrame,
  encodeAuthHelloFrame,
  encodeAuthOkFrame,
  encodeAuthProofFrame,
} from '../wire/auth-messages.js';
import { FrameType, type Frame } from '../wire/frame.js';
import { WireProtocolError } from '../wire/wire-error.js';
import { hmac, sameMac, type AppCredential, type KeyRing } from './keys.js';

/** The MAC one side of the exchange proves itself with. */
export function authMac(
  key: Buffer,
  side: 'client' | 'server',
  appId: string,
  keyId: Buffer,
  serverNonce: Buffer,
  clientNonce: Buffer,
): Buffer {
  return hmac(key, 'sluice-data-auth-v1', side, appId, keyId, serverNonce, clientNonce);
}

/** Whether a frame belongs to the AUTH exchange (answered by ConnectionAuth, not the server). */
export function isAuthFrame(frame: Frame): boolean {
  return frame.type === FrameType.AUTH_HELLO || frame.type === FrameType.AUTH_PROOF;
}

type State =
  | { readonly step: 'new' }
  | {
      readonly step: 'challenged';
      readonly appId: AppId;
      readonly keyId: Buffer;
      readonly key: Buffer;
      readonly nonce: Buffer;
    }
  | { readonly step: 'bound'; readonly appId: AppId };

/** How long a connection may stay unauthenticated before it is closed (it holds a slot). */
export const AUTH_DEADLINE_MS = 10_000;

/** The code a refusal is counted under: no or a wrong proof, or a request it may not make. */
export type RefusalCode = 'SLUICE_ERR_UNAUTHENTICATED' | 'SLUICE_ERR_UNAUTHORIZED';

/** One connection's side of the exchange, on a worker or ESS. */
export class ConnectionAuth {
  readonly #keys: KeyRing | undefined;
  readonly #onRefused: (code: RefusalCode) => void;
  #state: State = { step: 'new' };
  #deadline: NodeJS.Timeout | undefined;

  /**
   * `keys` undefined: an open cluster, every request is allowed and AUTH_HELLO is refused.
   * Otherwise `close` is called (and the refusal counted) if the connection has not
   * authenticated within AUTH_DEADLINE_MS: connections are a bounded resource
   * (worker.maxConnections) that a peer without a credential must not hold.
   */
  constructor(
    keys: KeyRing | undefined,
    onRefused: (code: RefusalCode) => void,
    close?: () => void,
    deadlineMs = AUTH_DEADLINE_MS,
  ) {
    this.#keys = keys;
    this.#onRefused = onRefused;
    if (keys && close) {
      this.#deadline = setTimeout(() => {
        if (this.#state.step === 'bound') return;
        onRefused('SLUICE_ERR_UNAUTHENTICATED');
        close();
      }, deadlineMs);
      this.#deadline.unref();
    }
  }

  /** Stops the deadline (the connection closed). */
  dispose(): void {
    clearTimeout(this.#deadline);
  }

  /** Answers AUTH_HELLO or AUTH_PROOF (the frame parts to send); refusals throw UNAUTHORIZED. */
  answer(frame: Frame): Buffer[] {
    const keys = this.#keys;
    if (!keys)
      throw this.#refuse(
        'this server runs without a cluster secret (an open cluster); connect without a credential',
        'SLUICE_ERR_UNAUTHORIZED',
      );
    if (frame.type === FrameType.AUTH_HELLO) {
      if (this.#state.step === 'bound')
        throw this.#refuse(
          `this connection is already authenticated as app ${this.#state.appId}`,
          'SLUICE_ERR_UNAUTHORIZED',
        );
      const hello = decodeAuthHello(frame.header);
      const key = keys.appKey(hello.appId, hello.keyId);
      // An unknown key id is refused at the proof, like a wrong one: nothing tells them apart.
      const nonce = randomBytes(AUTH_NONCE_BYTES);
      this.#state = {
        step: 'challenged',
        appId: hello.appId,
        keyId: hello.keyId,
        key: key ?? randomBytes(32),
        nonce,
      };
      return encodeAuthChallengeFrame(frame.requestId, nonce);
    }
    const s = this.#state;
    if (s.step !== 'challenged')
      throw this.#refuse('AUTH_PROOF without an AUTH_HELLO first', 'SLUICE_ERR_UNAUTHENTICATED');
    const proof = decodeAuthProof(frame.header);
    this.#state = { step: 'new' }; // one proof per challenge
    const expected = authMac(s.key, 'client', s.appId, s.keyId, s.nonce, proof.clientNonce);
    if (!sameMac(expected, proof.mac))
      throw this.#refuse(
        `the proof for app ${s.appId} does not verify (wrong credential?)`,
        'SLUICE_ERR_UNAUTHENTICATED',
      );
    this.#state = { step: 'bound', appId: s.appId };
    clearTimeout(this.#deadline);
    const mac = authMac(s.key, 'server', s.appId, s.keyId, s.nonce, proof.clientNonce);
    return encodeAuthOkFrame(frame.requestId, mac);
  }

  /**
   * Throws UNAUTHORIZED unless a request for `appId` is allowed here: the connection
   * authenticated as that app (or the cluster is open).
   */
  check(appId: string): void {
    if (!this.#keys) return;
    const s = this.#state;
    if (s.step !== 'bound')
      throw this.#refuse(
        'authenticate first: this cluster requires AUTH_HELLO and AUTH_PROOF',
        'SLUICE_ERR_UNAUTHENTICATED',
      );
    if (s.appId !== appId)
      throw this.#refuse(
        `this connection authenticated as app ${s.appId}, not ${appId}`,
        'SLUICE_ERR_UNAUTHORIZED',
      );
  }

  /**
   * Throws UNAUTHORIZED unless the connection authenticated (for requests that name no app,
   * such as a stream opened earlier on this connection).
   */
  checkBound(): void {
    if (this.#keys && this.#state.step !== 'bound')
      throw this.#refuse(
        'authenticate first: this cluster requires AUTH_HELLO and AUTH_PROOF',
        'SLUICE_ERR_UNAUTHENTICATED',
      );
  }

  #refuse(message: string, code: RefusalCode): WireProtocolError {
    this.#onRefused(code);
    return new WireProtocolError('UNAUTHORIZED', message);
  }
}

/** The client side: the proof for a challenge, and the check of the server's answer. */
function clientProof(
  credential: AppCredential,
  serverNonce: Buffer,
): { clientNonce: Buffer; mac: Buffer; serverMac: Buffer } {
  const clientNonce = randomBytes(AUTH_NONCE_BYTES);
  const c = credential;
  return {
    clientNonce,
    mac: authMac(c.key, 'client', c.appId, c.keyId, serverNonce, clientNonce),
    serverMac: authMac(c.key, 'server', c.appId, c.keyId, serverNonce, clientNonce),
  };
}

/**
 * The client's whole exchange on a fresh connection: AUTH_HELLO, then AUTH_PROOF for the
 * challenge, then the check that the server's AUTH_OK proves the key too. `request` sends one
 * frame built for a fresh requestId and resolves with its answer (an ERROR answer rejects, as
 * the connection's own requests do). `peer` names the server in errors. Shared by the
 * library's DataConnection and the raw test client, so both speak the exchange the same way.
 */
export async function authenticateDataConnection(
  request: (encode: (requestId: bigint) => Buffer[]) => Promise<Frame>,
  credential: AppCredential,
  peer: string,
): Promise<void> {
  const { appId, keyId } = credential;
  const expect = (frame: Frame, type: number): Buffer => {
    if (frame.type !== type)
      throw new SluiceError(
        'SLUICE_ERR_UNAVAILABLE',
        `worker ${peer}: answered the AUTH exchange with frame type ${frame.type}`,
        { context: { workerId: peer } },
      );
    return frame.header;
  };
  const challenge = await request((id) => encodeAuthHelloFrame(id, { appId, keyId }));
  const proof = clientProof(
    credential,
    decodeAuthChallenge(expect(challenge, FrameType.AUTH_CHALLENGE)),
  );
  const ok = await request((id) =>
    encodeAuthProofFrame(id, { clientNonce: proof.clientNonce, mac: proof.mac }),
  );
  if (!sameMac(decodeAuthOk(expect(ok, FrameType.AUTH_OK)), proof.serverMac))
    throw new SluiceError(
      'SLUICE_ERR_UNAUTHENTICATED',
      `${peer}: the server could not prove it knows app ${appId}'s key (not a daemon of this cluster?)`,
      { context: { workerId: peer } },
    );
}
