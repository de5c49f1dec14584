// Push load for the ingest benchmarks (bench/README.md: "pre-compressed 1 MiB pushes"): each PUSH
// carries one block with codec NONE whose stored bytes are random (compressed data does not
// compress further), so the push body is exactly `pushBytes` on the wire and on disk:
//
//   PUSH body = block header (32 B: mapId, attemptId, batchId, lengths, codec, crc32)
//             + stored bytes (pushBytes - 32)
//
// Every block is built before the clock starts: PAYLOAD_VARIANTS random blocks per mapper
// (one mapper per connection), each with its CRC, which covers the header fields too
// (block.ts), so a block cannot be relabelled per push without a CRC pass over the whole
// megabyte on the pusher's CPU. Blocks are therefore resent as they are: (mapId, batchId)
// repeat within a run, which the worker does not look at on ingest (readers would dedup on
// it; this benchmark reads nothing back). Partitions are taken round-robin, and every
// connection keeps `inflight` pushes outstanding, each lane sending its next push as soon as
// its ack arrives.
import { randomFillSync } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { WireStatusCode } from '../../dist/common/status-codes.js';
import { BLOCK_HEADER_BYTES, BlockCodec, writeBlock } from '../../dist/common/wire/index.js';

/** Distinct blocks per mapper, reused round-robin (16 MiB per connection at 1 MiB pushes). */
const PAYLOAD_VARIANTS = 16;
/** Acks that mean "accepted" (status-codes.ts `ok`); SOFT_SPLIT still lands in this epoch. */
const ACCEPTED = new Set([
  WireStatusCode.OK,
  WireStatusCode.OK_CONGESTED,
  WireStatusCode.SOFT_SPLIT,
]);
const STATUS_NAMES = new Map(Object.entries(WireStatusCode).map(([n, v]) => [v, n]));

/** payloads[mapId][variant] = [header, stored], ready to be a PUSH body. */
export function buildPayloads(pushBytes, mappers, mapIdBase = 0) {
  const storedBytes = pushBytes - BLOCK_HEADER_BYTES;
  if (storedBytes <= 0) throw new RangeError(`push size must exceed ${BLOCK_HEADER_BYTES} bytes`);
  const stored = Array.from({ length: PAYLOAD_VARIANTS }, () =>
    randomFillSync(Buffer.allocUnsafe(storedBytes)),
  );
  return Array.from({ length: mappers }, (_, i) =>
    stored.map((s, batchId) =>
      writeBlock(
        {
          mapId: mapIdBase + i,
          attemptId: 0,
          batchId,
          rawLength: s.length,
          codec: BlockCodec.NONE,
        },
        s,
      ),
    ),
  );
}

/**
 * Sends `pushes` pushes over `clients` (RawDataClient, or an array of them: a primary and its
 * replica, each push going to both, as the client's replicated writes do), `inflight`
 * outstanding per connection, to the first `partitions` partitions of `group` (default all),
 * round-robin from `partitionOffset`.
 * Resolves with the ack counts by status name once every push is acked; rejects on the first
 * push that was not accepted.
 */
export async function pushAll({
  clients,
  inflight,
  pushes,
  payloads,
  appId,
  shuffleId,
  group,
  mapIdBase = 0,
  partitions = group.endPartition - group.startPartition,
  partitionOffset = 0,
}) {
  const statuses = {};
  let next = 0;
  let failure;
  const lane = async (client, index) => {
    const targets = Array.isArray(client) ? client : [client];
    const mapId = mapIdBase + index;
    for (let i = next++; i < pushes && !failure; i = next++) {
      const body = payloads[index][i % payloads[index].length];
      const partitionId = group.startPartition + ((i + partitionOffset) % partitions);
      const length = body[0].length + body[1].length;
      const header = {
        appId,
        shuffleId,
        mapId,
        attemptId: 0,
        epoch: group.epoch,
        groupId: group.groupId,
        slices: [{ partitionId, bodyOffset: 0, length }],
      };
      const acks = await Promise.all(targets.map((t) => t.push(header, body)));
      for (const s of acks.flatMap((a) => a.statuses)) {
        const name = STATUS_NAMES.get(s.status) ?? String(s.status);
        statuses[name] = (statuses[name] ?? 0) + 1;
        if (!ACCEPTED.has(s.status))
          failure ??= new Error(`push ${i} to partition ${s.partitionId} answered ${name}`);
      }
    }
  };
  await Promise.all(
    clients.flatMap((client, mapId) => Array.from({ length: inflight }, () => lane(client, mapId))),
  );
  if (failure) throw failure;
  return statuses;
}
