// What a MapperEnd may claim (docs/architecture.md#lifecycle-of-one-shuffle step 5). The
// driver trusts executors for the totals readers check against, but not for anything absurd:
// readers dial the ESS address of every winner, and executor rolling adds up the bytes of
// every report, winner or loser, so one buggy or hostile executor could point every reducer
// at any host:port or get healthy executors drained. Checked before the report counts at all.
import { InvalidArgumentError } from '../../common/errors.js';
import { BLOCK_HEADER_BYTES } from '../../common/wire/block.js';
import type { PartitionWritten__Output } from '../../common/proto/gen/sluice/v1/PartitionWritten.js';

/** Most bytes one map attempt may report, per partition and in all: 1 PiB. */
export const MAX_MAP_OUTPUT_BYTES = 2 ** 50;

/** host:port as the ESS reader dials it (it splits at the colon: no IPv6 literal). */
const ESS_ADDRESS = /^([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$/;

/** Throws INVALID_ARGUMENT (field `ess_address`) unless `address` is host:port. */
export function checkEssAddress(address: string): void {
  const m = ESS_ADDRESS.exec(address);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65_535)
    throw new InvalidArgumentError(
      'ess_address',
      `must be host:port with a port 1-65535, got ${JSON.stringify(address.slice(0, 300))}`,
    );
}

/**
 * Throws INVALID_ARGUMENT naming the partition's field unless every size is one a writer can
 * produce: at most MAX_MAP_OUTPUT_BYTES per partition and in all, and bytes that hold the
 * 32-byte header of every block reported (no blocks, no bytes).
 */
export function checkSizes(partitions: readonly PartitionWritten__Output[]): void {
  let total = 0;
  for (const [i, p] of partitions.entries()) {
    const bytes = Number(p.bytes);
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_MAP_OUTPUT_BYTES)
      throw new InvalidArgumentError(
        `partitions[${i}].bytes`,
        `must be 0..${MAX_MAP_OUTPUT_BYTES}, got ${String(p.bytes)}`,
      );
    if (p.blocks * BLOCK_HEADER_BYTES > bytes || (p.blocks === 0) !== (bytes === 0))
      throw new InvalidArgumentError(
        `partitions[${i}].blocks`,
        `${p.blocks} blocks cannot make ${bytes} bytes (each block has a ${BLOCK_HEADER_BYTES}-byte header)`,
      );
    total += bytes;
    if (total > MAX_MAP_OUTPUT_BYTES)
      throw new InvalidArgumentError(
        'partitions',
        `more than ${MAX_MAP_OUTPUT_BYTES} bytes reported by one map attempt`,
      );
  }
}
