// Headers of the AUTH exchange that opens a data connection to a worker or ESS when the
// cluster runs with a cluster secret (docs/protocol.md#authentication, docs/operations.md#security).
// Big-endian; frame grammar in frame.ts. Two request/answer pairs, before any other request:
//
//   AUTH_HELLO     = appIdLen:u16 appId:ASCII keyId:16 bytes      client -> server
//   AUTH_CHALLENGE = serverNonce:32 bytes                          server -> client
//   AUTH_PROOF     = clientNonce:32 bytes mac:32 bytes             client -> server
//   AUTH_OK        = mac:32 bytes                                  server -> client
//
//   AUTH_PROOF.mac = HMAC-SHA256(appKey, "sluice-data-auth-v1" NUL "client" NUL appId NUL keyId
//                                NUL serverNonce NUL clientNonce)
//   AUTH_OK.mac    = the same with "server": the server proves it knows the key too.
//
// The key never crosses the wire and a proof is good for one server nonce only. A proof that
// does not verify is answered ERROR UNAUTHORIZED; the connection stays unauthenticated.
import { InvalidArgumentError } from '../errors.js';
import { KEY_ID_LENGTH } from '../security/keys.js';
import type { AppId } from '../ids.js';
import { FrameType, encodeFrame } from './frame.js';
import { HeaderReader, HeaderWriter, appIdFieldBytes } from './header-codec.js';

export const AUTH_NONCE_BYTES = 32;
export const AUTH_MAC_BYTES = 32;

export interface AuthHello {
  readonly appId: AppId;
  readonly keyId: Buffer;
}

export interface AuthProof {
  readonly clientNonce: Buffer;
  readonly mac: Buffer;
}

export function encodeAuthHelloFrame(requestId: bigint, msg: AuthHello): Buffer[] {
  const header = new HeaderWriter('AUTH_HELLO', appIdFieldBytes(msg.appId) + KEY_ID_LENGTH)
    .appId(msg.appId)
    .bytes(fixed('AUTH_HELLO.keyId', msg.keyId, KEY_ID_LENGTH))
    .finish();
  return encodeFrame(FrameType.AUTH_HELLO, 0, requestId, header);
}

export function decodeAuthHello(header: Buffer): AuthHello {
  const r = new HeaderReader('AUTH_HELLO', header);
  const appId = r.appId();
  const keyId = Buffer.from(r.bytes('keyId', KEY_ID_LENGTH));
  r.end();
  return { appId, keyId };
}

export function encodeAuthChallengeFrame(requestId: bigint, serverNonce: Buffer): Buffer[] {
  const header = new HeaderWriter('AUTH_CHALLENGE', AUTH_NONCE_BYTES)
    .bytes(fixed('AUTH_CHALLENGE.serverNonce', serverNonce, AUTH_NONCE_BYTES))
    .finish();
  return encodeFrame(FrameType.AUTH_CHALLENGE, 0, requestId, header);
}

export function decodeAuthChallenge(header: Buffer): Buffer {
  const r = new HeaderReader('AUTH_CHALLENGE', header);
  const nonce = Buffer.from(r.bytes('serverNonce', AUTH_NONCE_BYTES));
  r.end();
  return nonce;
}

export function encodeAuthProofFrame(requestId: bigint, msg: AuthProof): Buffer[] {
  const header = new HeaderWriter('AUTH_PROOF', AUTH_NONCE_BYTES + AUTH_MAC_BYTES)
    .bytes(fixed('AUTH_PROOF.clientNonce', msg.clientNonce, AUTH_NONCE_BYTES))
    .bytes(fixed('AUTH_PROOF.mac', msg.mac, AUTH_MAC_BYTES))
    .finish();
  return encodeFrame(FrameType.AUTH_PROOF, 0, requestId, header);
}

export function decodeAuthProof(header: Buffer): AuthProof {
  const r = new HeaderReader('AUTH_PROOF', header);
  const clientNonce = Buffer.from(r.bytes('clientNonce', AUTH_NONCE_BYTES));
  const mac = Buffer.from(r.bytes('mac', AUTH_MAC_BYTES));
  r.end();
  return { clientNonce, mac };
}

export function encodeAuthOkFrame(requestId: bigint, mac: Buffer): Buffer[] {
  const header = new HeaderWriter('AUTH_OK', AUTH_MAC_BYTES)
    .bytes(fixed('AUTH_OK.mac', mac, AUTH_MAC_BYTES))
    .finish();
  return encodeFrame(FrameType.AUTH_OK, 0, requestId, header);
}

export function decodeAuthOk(header: Buffer): Buffer {
  const r = new HeaderReader('AUTH_OK', header);
  const mac = Buffer.from(r.bytes('mac', AUTH_MAC_BYTES));
  r.end();
  return mac;
}

function fixed(field: string, value: Buffer, length: number): Buffer {
  if (!Buffer.isBuffer(value) || value.length !== length)
    throw new InvalidArgumentError(field, `must be ${length} bytes`);
  return value;
}
