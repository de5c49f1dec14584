// FakeFollowerManager: a named fake of a manager that is not the leader, for tests of the
// clients' failover (src/common/proto/manager-client.ts). It answers every ManagerService
// method as a follower does: SLUICE_ERR_NOT_LEADER with the `sluice-leader` trailer naming
// `leader`, or without a trailer while `leader` is undefined (no leader known). It listens
// on 127.0.0.1, port 0, and counts the calls it refused.
import * as grpc from '@grpc/grpc-js';
import { NotLeaderError } from '../common/errors.js';
import { sluiceV1 } from '../common/proto/load.js';
import { bindServer, shutdownServer, toGrpcError } from '../common/proto/rpc.js';

export class FakeFollowerManager {
  readonly address: string;
  /** The leader this follower names; may be changed at any time (e.g. to make two name each other). */
  leader: string | undefined;
  /** Method names of the calls refused so far, in order. */
  readonly calls: string[] = [];
  readonly #server: grpc.Server;

  private constructor(server: grpc.Server, address: string, leader: string | undefined) {
    this.#server = server;
    this.address = address;
    this.leader = leader;
  }

  static async start(leader?: string): Promise<FakeFollowerManager> {
    const server = new grpc.Server();
    const holder: { fake?: FakeFollowerManager } = {};
    const definition = sluiceV1().ManagerService.service;
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(definition)) {
      handlers[name] = (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
        const fake = holder.fake!;
        fake.calls.push(name);
        callback(toGrpcError(new NotLeaderError(fake.leader)));
      };
    }
    server.addService(definition, handlers);
    const port = await bindServer(server, '127.0.0.1', 0);
    holder.fake = new FakeFollowerManager(server, `127.0.0.1:${port}`, leader);
    return holder.fake;
  }

  close(): Promise<void> {
    return shutdownServer(this.#server, 1_000);
  }
}
