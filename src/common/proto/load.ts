// Runtime loading of proto/sluice/v1/*.proto. The options here must match the code generator's
// (scripts/gen-proto.mjs) so the generated types describe what the loader produces.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as AgentProto } from './gen/agent.js';
import type { ProtoGrpcType as DriverProto } from './gen/driver.js';
import type { ProtoGrpcType as ManagerProto } from './gen/manager.js';
import type { ProtoGrpcType as WorkerProto } from './gen/worker.js';

/** src/common/proto and dist/common/proto are both three levels below the package root. */
export const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../proto');

export const PROTO_FILES = [
  'sluice/v1/common.proto',
  'sluice/v1/manager.proto',
  'sluice/v1/worker.proto',
  'sluice/v1/driver.proto',
  'sluice/v1/agent.proto',
] as const;

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

type SluiceV1 = ManagerProto['sluice']['v1'] &
  WorkerProto['sluice']['v1'] &
  DriverProto['sluice']['v1'] &
  AgentProto['sluice']['v1'];

let cached: SluiceV1 | undefined;

/** The sluice.v1 package: service constructors and definitions. Loaded once per process. */
export function sluiceV1(): SluiceV1 {
  if (!cached) {
    const definition = protoLoader.loadSync([...PROTO_FILES], PROTO_LOADER_OPTIONS);
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      sluice: { v1: SluiceV1 };
    };
    cached = loaded.sluice.v1;
  }
  return cached;
}
