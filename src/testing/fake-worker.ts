// FakeWorker: a named fake that speaks only the worker's control-plane side of
// ManagerService (register + heartbeat with scripted load). The manager cannot tell it from
// a worker; it holds no data. Used until the real worker exists and, after that, for load
// shapes a real worker cannot produce on demand (a full disk, a given push rate).
import { ManagerClient } from '../common/proto/manager-client.js';
import type { DiskInfo } from '../common/proto/gen/sluice/v1/DiskInfo.js';
import type { ShuffleRef } from '../common/proto/gen/sluice/v1/ShuffleRef.js';
import type { WorkerHeartbeatResponse__Output } from '../common/proto/gen/sluice/v1/WorkerHeartbeatResponse.js';
import type { WorkerLoad } from '../common/proto/gen/sluice/v1/WorkerLoad.js';

export interface FakeWorkerOptions {
  readonly id: string;
  readonly host?: string;
  readonly rack?: string;
  readonly dataPort?: number;
  readonly freeDiskBytes?: number;
  readonly memoryBudgetBytes?: number;
  /** A client to share (many fakes in one process); default: one of its own. */
  readonly client?: ManagerClient;
}

export class FakeWorker {
  readonly id: string;
  readonly client: ManagerClient;
  readonly #opts: FakeWorkerOptions;
  readonly #ownClient: boolean;
  load: WorkerLoad = {};
  held: ShuffleRef[] = [];
  replies: WorkerHeartbeatResponse__Output[] = [];

  constructor(managerAddress: string, opts: FakeWorkerOptions) {
    this.id = opts.id;
    this.#opts = opts;
    this.#ownClient = opts.client === undefined;
    this.client = opts.client ?? new ManagerClient(managerAddress, { deadlineMs: 5_000 });
  }

  disks(): DiskInfo[] {
    const free = this.#opts.freeDiskBytes ?? 100 * 1024 ** 3;
    return [
      {
        path: `/fake/${this.id}`,
        capacityBytes: Math.max(free, 1),
        freeBytes: free,
        healthy: true,
      },
    ];
  }

  async register(): Promise<void> {
    await this.client.registerWorker({
      address: {
        workerId: this.id,
        host: this.#opts.host ?? '127.0.0.1',
        rack: this.#opts.rack ?? '',
        controlPort: 1,
        dataPort: this.#opts.dataPort ?? 2,
        httpPort: 0,
      },
      disks: this.disks(),
      memoryBudgetBytes: this.#opts.memoryBudgetBytes ?? 1024 ** 3,
    });
  }

  async heartbeat(): Promise<WorkerHeartbeatResponse__Output> {
    const reply = await this.client.workerHeartbeat({
      workerId: this.id,
      load: { disks: this.disks(), servingState: 'SERVING', ...this.load },
      heldShuffles: this.held,
    });
    this.replies.push(reply);
    return reply;
  }

  close(): void {
    if (this.#ownClient) this.client.close();
  }
}
