// The one configuration registry (docs/development.md#configuration). docs/configuration.md is generated from it
// (`npm run gen:docs`) and a test checks the committed file is current.
import type { ConfigEntry } from './types.js';

type Spec<T> = Omit<ConfigEntry<T>, 'key'>;

const str = (s: Omit<Spec<string>, 'type'>): Spec<string> => ({ type: 'string', ...s });
const int = (s: Omit<Spec<number>, 'type'>): Spec<number> => ({ type: 'int', ...s });
const bytes = (s: Omit<Spec<number>, 'type'>): Spec<number> => ({ type: 'bytes', ...s });
const bool = (s: Omit<Spec<boolean>, 'type'>): Spec<boolean> => ({ type: 'bool', ...s });
const float = (s: Omit<Spec<number>, 'type'>): Spec<number> => ({ type: 'float', ...s });
const duration = (s: Omit<Spec<number>, 'type'>): Spec<number> => ({ type: 'duration', ...s });
const oneOf = <const V extends readonly string[]>(
  values: V,
  s: Omit<Spec<V[number]>, 'type' | 'values'>,
): Spec<V[number]> => ({ type: 'enum', values, ...s });

const PORT = { min: 0, max: 65_535 } as const;

/**
 * Default of `grpc.maxMessageBytes`: the largest gRPC message any Sluice client or server sends
 * or accepts. Library code without a Config (the client library) uses it directly.
 */
export const DEFAULT_GRPC_MAX_MESSAGE_BYTES = 64 * 1024 ** 2;

const SPECS = {
  'log.level': oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info',
    category: 'general',
    doc: 'Daemon log level (pino JSON on stdout).',
  }),
  'grpc.deadlineMs': duration({
    default: 10_000,
    min: 1,
    category: 'general',
    doc: 'Deadline of one control-plane gRPC call made by a Sluice process.',
  }),
  'grpc.maxMessageBytes': bytes({
    default: DEFAULT_GRPC_MAX_MESSAGE_BYTES,
    min: 1024 ** 2,
    max: 2 * 1024 ** 3 - 1,
    category: 'general',
    doc: 'Largest gRPC message a Sluice process sends or accepts, as server and as client (e.g. a `CommitFiles` answer grows with the partitions a worker holds; docs/protocol.md#message-size-limits). Drivers and executors (the client library) use the same default.',
  }),
  'security.clusterSecretFile': str({
    default: '',
    category: 'security',
    doc: 'File holding the cluster secret (at least 32 bytes, mode 0600), the same on every manager, worker, ESS and agent. Set: every gRPC call and data connection is authenticated and apps get their own credentials; empty: the cluster is open and daemons warn at start (docs/operations.md#security).',
  }),
  'security.adminTokenFile': str({
    default: '',
    category: 'security',
    doc: "File holding the bearer token (at least 32 bytes, mode 0600) the manager's and workers' HTTP endpoints that change state (decommission, recommission) require. Empty: those endpoints are refused when a cluster secret is set, open otherwise.",
  }),
  'security.protectReadEndpoints': bool({
    default: false,
    category: 'security',
    doc: 'Whether the HTTP endpoints that only read (`/api/v1/...` GETs, `/metrics`) need the admin token too. `/healthz` and `/readyz` stay open for probes.',
  }),
  'tls.certFile': str({
    default: '',
    category: 'security',
    doc: 'PEM certificate (chain) this daemon serves gRPC and the data plane with, and presents to other daemons as a client. Set with tls.keyFile: every port but HTTP speaks TLS, and every client must (docs/operations.md#tls). Empty: plain TCP.',
  }),
  'tls.keyFile': str({
    default: '',
    category: 'security',
    doc: 'PEM private key of tls.certFile; refused at start if group or others can read it (chmod 600).',
  }),
  'tls.caFile': str({
    default: '',
    category: 'security',
    doc: "PEM CA certificates the peers' certificates must chain to; empty: the system's CAs.",
  }),
  'tls.requireClientCert': bool({
    default: false,
    category: 'security',
    doc: 'Mutual TLS: servers refuse a client without a certificate signed by tls.caFile (the TLS handshake fails, counted in `sluice_<daemon>_auth_refusals_total`).',
  }),
  'manager.host': str({
    default: '127.0.0.1',
    category: 'manager',
    doc: 'Address the manager listens on (gRPC, and HTTP unless `manager.httpBind` is set); 0.0.0.0 listens on every interface. Flag `--bind` (or `--host`).',
  }),
  'manager.httpBind': str({
    default: '',
    category: 'manager',
    doc: 'Address the HTTP port listens on; empty: `manager.host`. E.g. 127.0.0.1 keeps the admin API on the host while gRPC listens on the network.',
  }),
  'manager.grpcPort': int({
    default: 9097,
    ...PORT,
    category: 'manager',
    doc: 'gRPC port (ManagerService); 0 picks a free port.',
  }),
  'manager.httpPort': int({
    default: 9098,
    ...PORT,
    category: 'manager',
    doc: 'HTTP port: /metrics, /healthz, /readyz, /api/v1/...; 0 picks a free port.',
  }),
  'manager.advertiseHost': str({
    default: '',
    category: 'manager',
    doc: 'Host other managers name when they redirect callers to this one (HA); empty: `manager.host`, or the hostname when that is 0.0.0.0 or ::. Flag `--advertise`.',
  }),
  'manager.state': oneOf(['sqlite', 'memory', 'zookeeper'] as const, {
    default: 'sqlite',
    category: 'manager',
    doc: 'Where apps and allocations are kept: `sqlite` survives restarts; `zookeeper` is shared by managers with leader election (docs/architecture.md#zookeeper-layout); `memory` is for tests.',
  }),
  'manager.sqlitePath': str({
    default: '.sluice/manager.db',
    category: 'manager',
    doc: 'SQLite file of the `sqlite` state store (created with its directory if missing).',
  }),
  'manager.zkConnect': str({
    default: '127.0.0.1:2181',
    category: 'manager',
    doc: 'ZooKeeper servers of the `zookeeper` state store, `host:port,host:port,...`.',
  }),
  'manager.zkRoot': str({
    default: '/sluice',
    category: 'manager',
    doc: 'Znode under which the `zookeeper` state store keeps everything (created if missing); clusters sharing an ensemble need different roots.',
  }),
  'manager.zkSessionTimeoutMs': duration({
    default: 6_000,
    min: 1_000,
    category: 'manager',
    doc: 'ZooKeeper session timeout of the `zookeeper` state store, also the deadline of each of its requests (the server bounds it to 2..20 of its ticks).',
  }),
  'manager.workerHeartbeatIntervalMs': duration({
    default: 3_000,
    min: 10,
    category: 'manager',
    doc: 'How often workers are told to heartbeat.',
  }),
  'manager.workerLostTimeoutMs': duration({
    default: 30_000,
    min: 10,
    category: 'manager',
    doc: 'A worker silent this long is lost: excluded from new allocations.',
  }),
  'manager.workerForgetMs': duration({
    default: 3_600_000,
    min: 10,
    category: 'manager',
    doc: 'A lost worker silent this long is dropped from the registry and the API.',
  }),
  'manager.appHeartbeatIntervalMs': duration({
    default: 10_000,
    min: 10,
    category: 'manager',
    doc: 'How often drivers are told to heartbeat their app.',
  }),
  'manager.appExpiryMs': duration({
    default: 120_000,
    min: 10,
    category: 'manager',
    doc: 'An app silent this long expires; workers are told to delete its data.',
  }),
  'manager.tombstoneRetentionMs': duration({
    default: 7 * 24 * 3_600_000,
    min: 10,
    category: 'manager',
    doc: 'How long an ended app or released shuffle is remembered: workers that come back within it are told to delete its data, and its id cannot be registered again.',
  }),
  'manager.orphanGraceMs': duration({
    default: 600_000,
    min: 0,
    category: 'manager',
    doc: 'Workers are told to delete data of apps the manager has never heard of only after it has been up this long (a lost state file must not wipe the cluster at once).',
  }),
  'manager.shutdownGraceMs': duration({
    default: 5_000,
    min: 0,
    category: 'manager',
    doc: 'On SIGTERM, how long running calls may finish before they are cancelled.',
  }),
  'manager.sweepIntervalMs': duration({
    default: 1_000,
    min: 10,
    category: 'manager',
    doc: 'How often the manager looks for lost workers and expired apps.',
  }),
  'manager.allocationPolicy': oneOf(['load-aware', 'round-robin'] as const, {
    default: 'load-aware',
    category: 'manager',
    doc: 'How partition groups are placed on workers (docs/architecture.md#cluster-manager).',
  }),
  'manager.maxPartitionsPerGroup': int({
    default: 100,
    min: 1,
    max: 100_000,
    category: 'manager',
    doc: 'Largest partition group (contiguous partitions pushed in one request).',
  }),
  'manager.maxPartitionsPerShuffle': int({
    default: 1_000_000,
    min: 1,
    max: 100_000_000,
    category: 'manager',
    doc: 'Largest partition count a shuffle may ask for.',
  }),
  'manager.maxMappersPerShuffle': int({
    default: 10_000_000,
    min: 1,
    max: 0x7fff_ffff,
    category: 'manager',
    doc: 'Largest map-task count a shuffle may declare.',
  }),
  'manager.maxGroupsPerShuffle': int({
    default: 10_000,
    min: 1,
    max: 10_000_000,
    category: 'manager',
    doc: 'Most partition groups one shuffle is cut into: a request for smaller groups than ceil(partitions / this) is refused (INVALID_ARGUMENT), and the default group size grows for a shuffle that would pass it (docs/architecture.md#partition-groups-and-epochs).',
  }),
  'manager.maxApps': int({
    default: 100_000,
    min: 1,
    max: 10_000_000,
    category: 'manager',
    doc: 'Most live apps; RegisterApp of a new app past it is refused with SLUICE_ERR_QUOTA_EXCEEDED (RegisterApp is open to anyone who reaches the manager: this bounds what registering apps in a loop can take).',
  }),
  'manager.maxShufflesPerApp': int({
    default: 10_000,
    min: 1,
    max: 10_000_000,
    category: 'manager',
    doc: 'Most live (allocated, not released) shuffles one app may hold; AllocateShuffle past it is refused with SLUICE_ERR_QUOTA_EXCEEDED.',
  }),
  'manager.maxPartitionsPerApp': int({
    default: 10_000_000,
    min: 1,
    max: 1_000_000_000,
    category: 'manager',
    doc: "Most partitions summed over an app's live shuffles; AllocateShuffle past it is refused with SLUICE_ERR_QUOTA_EXCEEDED.",
  }),
  'manager.maxGroupsPerApp': int({
    default: 100_000,
    min: 1,
    max: 100_000_000,
    category: 'manager',
    doc: "Most partition groups summed over an app's live shuffles (what the manager stores and places per app); AllocateShuffle past it is refused with SLUICE_ERR_QUOTA_EXCEEDED.",
  }),
  'manager.maxClusterStatePageSize': int({
    default: 1_000,
    min: 1,
    max: 100_000,
    category: 'manager',
    doc: 'Entries (workers, apps and shuffles together) in one GetClusterState page: the page size when the request names none, and the most it may ask for.',
  }),
  'manager.minFreeDiskBytes': bytes({
    default: 1024 ** 3,
    min: 0,
    category: 'manager',
    doc: 'Workers with less free disk than this get no new partition groups.',
  }),
  'worker.id': str({
    default: '',
    category: 'worker',
    doc: 'Stable worker id ([A-Za-z0-9._-]); empty means `<hostname>-<dataPort>`.',
  }),
  'worker.manager': str({
    default: '127.0.0.1:9097',
    category: 'worker',
    doc: 'The manager gRPC address (host:port): one address or a comma-separated list of every manager; calls go to the leader.',
  }),
  'worker.host': str({
    default: '127.0.0.1',
    category: 'worker',
    doc: 'Shorthand of older configurations: the default of `worker.bind`, and so of the advertised name (docs/operations.md#host-identity). Flag `--host`.',
  }),
  'worker.bind': str({
    default: '',
    category: 'worker',
    doc: 'Address the data and control ports listen on (0.0.0.0 or ::: every interface); empty: `worker.host`. Flag `--bind`.',
  }),
  'worker.advertise': str({
    default: '',
    category: 'worker',
    doc: "Host name or address the worker registers with the manager: drivers and executors connect to it (data and control ports). Empty: the bind address, or the machine's hostname when that is 0.0.0.0 or ::. Flag `--advertise`.",
  }),
  'worker.httpBind': str({
    default: '',
    category: 'worker',
    doc: 'Address the HTTP port (/metrics, /healthz, /readyz, decommission) listens on; empty: the bind address. The control port stays with the data port: drivers call it at the advertised address.',
  }),
  'worker.rack': str({
    default: '',
    category: 'worker',
    doc: 'Rack label for replica placement (empty: unlabelled).',
  }),
  'worker.controlPort': int({
    default: 9197,
    ...PORT,
    category: 'worker',
    doc: 'gRPC port (WorkerControlService); 0 picks a free port.',
  }),
  'worker.dataPort': int({
    default: 9198,
    ...PORT,
    category: 'worker',
    doc: 'Framed TCP port for pushes and fetches (docs/protocol.md); 0 picks a free port.',
  }),
  'worker.httpPort': int({
    default: 9199,
    ...PORT,
    category: 'worker',
    doc: 'HTTP port: /metrics, /healthz, /readyz; 0 picks a free port.',
  }),
  'worker.dirs': str({
    default: '',
    category: 'worker',
    doc: 'Comma-separated data directories, one per disk (`--dir` may be repeated). Empty only with `storage.remote` set: a remote-only worker.',
  }),
  'worker.memoryBudgetBytes': bytes({
    default: 0,
    min: 0,
    category: 'worker',
    doc: 'Memory for pushed data not yet on disk; 0 means 25% of the machine memory.',
  }),
  'worker.memoryPauseRatio': float({
    default: 0.85,
    min: 0.01,
    max: 1,
    category: 'worker',
    doc: 'Above this share of the budget, push sockets pause and pushes are acked OK_CONGESTED.',
  }),
  'worker.memoryFullRatio': float({
    default: 0.95,
    min: 0.01,
    max: 1,
    category: 'worker',
    doc: 'Above this share of the budget the worker is FULL.',
  }),
  'worker.memoryResumeRatio': float({
    default: 0.7,
    min: 0.01,
    max: 1,
    category: 'worker',
    doc: 'Pushes resume below this share of the budget.',
  }),
  'worker.memoryPartialFrameRatio': float({
    default: 0.35,
    min: 0.01,
    max: 1,
    category: 'worker',
    doc: 'While memory is paused, frames still arriving (every connection together) may hold at most this share of the budget, and memory may not exceed the budget: past either, the connections whose large frame (over 64 KiB) in progress began first are answered THROTTLED and closed. Must be below memoryResumeRatio, so frames in progress alone can never keep pushes paused.',
  }),
  'worker.memoryFlushRatio': float({
    default: 0.5,
    min: 0.01,
    max: 1,
    category: 'worker',
    doc: 'Above this share of the budget the largest partition buffers are written out in the background, so the disk works while pushes go on instead of after they pause (set it at or above memoryPauseRatio to flush only under pressure).',
  }),
  'worker.flushBytes': bytes({
    default: 4 * 1024 ** 2,
    min: 4096,
    max: 256 * 1024 ** 2,
    category: 'worker',
    doc: 'A partition buffer this large is written out (rounded up to 4 KiB; also the aligned write size).',
  }),
  'worker.writesInFlight': int({
    default: 4,
    min: 1,
    max: 64,
    category: 'worker',
    doc: 'Concurrent writes per disk (1-2 for HDD, 4-8 for SSD).',
  }),
  'worker.directIo': bool({
    default: true,
    category: 'worker',
    doc: 'Write with O_DIRECT where the filesystem accepts it (buffered otherwise).',
  }),
  'worker.fsyncOnCommit': bool({
    default: true,
    category: 'worker',
    doc: 'fsync data and index files at commit, and the ACCEPTED and COMMITTED markers with their directories.',
  }),
  'worker.verifyOnPush': bool({
    default: true,
    category: 'worker',
    doc: 'Check every block CRC on receipt (readers always check).',
  }),
  'worker.chunkBytes': bytes({
    default: 8 * 1024 ** 2,
    min: 4096,
    max: 256 * 1024 ** 2,
    category: 'worker',
    doc: 'Chunk size of committed files (reads; chunks end on block boundaries).',
  }),
  'worker.epochRotateBytes': bytes({
    default: 1024 ** 3,
    min: 4096,
    category: 'worker',
    doc: 'A partition file past this size answers SOFT_SPLIT: later pushes go to a new epoch.',
  }),
  'worker.maxFrameBytes': bytes({
    default: 64 * 1024 ** 2,
    min: 1024,
    max: 1024 ** 3,
    category: 'worker',
    doc: 'Largest data-plane frame accepted; larger ones are refused and the connection closed.',
  }),
  'worker.frameTimeoutMs': duration({
    default: 60_000,
    min: 10,
    category: 'worker',
    doc: 'A frame must arrive whole within this long of its first byte, else its connection is closed (the partial frame holds memory; a deadline, not an idle timer, so a peer trickling bytes cannot hold it).',
  }),
  'worker.maxConnections': int({
    default: 4096,
    min: 1,
    category: 'worker',
    doc: 'Data connections open at once; one more is answered THROTTLED and closed (each connection may hold a partial frame of up to worker.maxFrameBytes in memory, and holds a receive slab: 16 KiB, 256 KiB once it has pushed).',
  }),
  'worker.maxOpenStreams': int({
    default: 8192,
    min: 1,
    category: 'worker',
    doc: 'Read streams open at once on the worker, every connection together; one more OPEN_STREAM is answered THROTTLED (readers back off and retry). A stream on a local disk holds one open file: keep worker.maxConnections + this + partition files being written under the open-file limit.',
  }),
  'worker.maxOpenFiles': int({
    default: 0,
    min: 0,
    category: 'worker',
    doc: 'Partition files open for writing at once, every local disk together; past it the least recently written idle file is closed and opened again at its next write. 0: a quarter of the process limit on open files (ulimit -n), at least 64. Without a budget, a shuffle of many partitions whose data outgrows memory failed its files with EMFILE.',
  }),
  'worker.fetchWindow': int({
    default: 4,
    min: 1,
    max: 64,
    category: 'worker',
    doc: 'Chunk reads in flight per connection on the read server (across all its streams).',
  }),
  'worker.shutdownTimeoutMs': duration({
    default: 30_000,
    min: 0,
    category: 'worker',
    doc: 'On SIGTERM, how long commits in progress may finish before the worker exits.',
  }),
  'storage.remote': str({
    default: '',
    category: 'storage',
    doc: 'A remote tier for partition files: `hdfs://namenode:port/path` (WebHDFS, the NameNode HTTP port) or `s3://bucket/prefix`. New files go there when every local disk is above storage.diskHighWatermark or unhealthy; with no `--dir`, every file does. Each worker writes under `<path>/<workerId>/`.',
  }),
  'storage.diskHighWatermark': float({
    default: 0.9,
    min: 0.01,
    max: 1,
    category: 'storage',
    doc: 'Used share of a disk above which it gets no new files while another storage is healthy (state high-usage).',
  }),
  'storage.remoteAfterBytes': bytes({
    default: 0,
    min: 0,
    category: 'storage',
    doc: 'A partition file on a local disk that grows past this moves to the remote tier (what is written is copied there) and goes on there, so skewed partitions do not fill the disks. 0: never.',
  }),
  'storage.probeIntervalMs': duration({
    default: 10_000,
    min: 100,
    category: 'storage',
    doc: 'How often each storage is probed (a small file written, read back, deleted) and its usage read.',
  }),
  'storage.hungMs': duration({
    default: 30_000,
    min: 100,
    category: 'storage',
    doc: 'A write or probe running longer than this makes its storage hung: no new files.',
  }),
  'storage.errorWindowMs': duration({
    default: 60_000,
    min: 0,
    category: 'storage',
    doc: 'A storage stays failing (no new files) this long after its last I/O error, and until a probe succeeds.',
  }),
  'storage.remoteBufferBytes': bytes({
    default: 8 * 1024 ** 2,
    min: 64 * 1024,
    category: 'storage',
    doc: 'Size of one write (an HDFS append) to the remote tier; a partition buffers this much before writing. For S3 the part size applies.',
  }),
  'storage.remoteWritesInFlight': int({
    default: 4,
    min: 1,
    max: 64,
    category: 'storage',
    doc: 'Writes (HDFS appends, S3 part uploads) in flight at once to the remote tier.',
  }),
  'storage.hdfs.user': str({
    default: '',
    category: 'storage',
    doc: 'HDFS user for WebHDFS simple authentication (`user.name`); empty: `HADOOP_USER_NAME`, else the OS user running the worker. Kerberos is not supported.',
  }),
  'storage.s3.endpoint': str({
    default: '',
    category: 'storage',
    doc: "S3 endpoint URL for S3-compatible stores (e.g. `http://rgw:7480`); empty: AWS's. Credentials come from the standard AWS environment variables and files.",
  }),
  'storage.s3.region': str({
    default: 'us-east-1',
    category: 'storage',
    doc: 'S3 region.',
  }),
  'storage.s3.forcePathStyle': bool({
    default: true,
    category: 'storage',
    doc: 'Address buckets as `endpoint/bucket` (S3-compatible stores) rather than `bucket.endpoint`.',
  }),
  'storage.s3.partBytes': bytes({
    default: 8 * 1024 ** 2,
    min: 5 * 1024 ** 2,
    category: 'storage',
    doc: 'Multipart upload part size (S3 requires at least 5 MiB for every part but the last). A partition on S3 holds up to this much in memory before it can be written.',
  }),
  'throttle.enabled': bool({
    default: true,
    category: 'throttle',
    doc: 'Request throttling on the fetch path of workers and ESS daemons (docs/architecture.md#request-throttling); off: nothing is refused, quantities are still measured.',
  }),
  'throttle.sampleIntervalMs': duration({
    default: 5_000,
    min: 10,
    category: 'throttle',
    doc: 'How often the node samples its fetch latency L and the per-app chunk fetch rates.',
  }),
  'throttle.latencyThresholdMs': duration({
    default: 10_000,
    min: 1,
    category: 'throttle',
    doc: 'Lθ: throttling starts when L exceeds it; also the queue horizon of q̂c = max fr_a × Lθ × λ_p.',
  }),
  'throttle.latencyStat': oneOf(['mean', 'p95'] as const, {
    default: 'mean',
    category: 'throttle',
    doc: 'L is the mean or the p95 of the request-arrival-to-response-sent times of one sample.',
  }),
  'throttle.windowMs': duration({
    default: 300_000,
    min: 10,
    category: 'throttle',
    doc: 'Window of the maxima of the node and per-app fetch rates in fr̂_a and q̂c.',
  }),
  'throttle.recomputeIntervalMs': duration({
    default: 30_000,
    min: 10,
    category: 'throttle',
    doc: 'How often q̂c is recomputed and λ_p decayed while L keeps worsening.',
  }),
  'throttle.holdMs': duration({
    default: 1_800_000,
    min: 0,
    category: 'throttle',
    doc: 'A limited app stays limited this long from its first throttling.',
  }),
  'throttle.decayP1': float({
    default: 0.9,
    min: 0.01,
    max: 0.999,
    category: 'throttle',
    doc: 'λ_p decay factor of priority 1 (highest): λ_p is multiplied by it at each recompute while L worsens.',
  }),
  'throttle.decayP2': float({
    default: 0.8,
    min: 0.01,
    max: 0.999,
    category: 'throttle',
    doc: 'λ_p decay factor of priority 2: λ_p is multiplied by it at each recompute while L worsens.',
  }),
  'throttle.decayP3': float({
    default: 0.7,
    min: 0.01,
    max: 0.999,
    category: 'throttle',
    doc: 'λ_p decay factor of priority 3: λ_p is multiplied by it at each recompute while L worsens.',
  }),
  'throttle.decayP4': float({
    default: 0.6,
    min: 0.01,
    max: 0.999,
    category: 'throttle',
    doc: 'λ_p decay factor of priority 4: λ_p is multiplied by it at each recompute while L worsens.',
  }),
  'throttle.decayP5': float({
    default: 0.5,
    min: 0.01,
    max: 0.999,
    category: 'throttle',
    doc: 'λ_p decay factor of priority 5 (lowest): λ_p is multiplied by it at each recompute while L worsens.',
  }),
  'ess.host': str({
    default: '127.0.0.1',
    category: 'ess',
    doc: 'Address the node-local ESS daemon listens on (data, and HTTP unless `ess.httpBind` is set). Flag `--bind` (or `--host`).',
  }),
  'ess.httpBind': str({
    default: '',
    category: 'ess',
    doc: 'Address the HTTP port listens on; empty: `ess.host`.',
  }),
  'ess.dataPort': int({
    default: 9398,
    ...PORT,
    category: 'ess',
    doc: 'Framed TCP port: REGISTER_OUTPUT from local executors, FETCH_BLOCKS from readers; 0 picks a free port.',
  }),
  'ess.httpPort': int({
    default: 9399,
    ...PORT,
    category: 'ess',
    doc: 'HTTP port: /metrics, /healthz, /readyz; 0 picks a free port.',
  }),
  'ess.dir': str({
    default: '.sluice/ess',
    category: 'ess',
    doc: 'Directory the executors of this node write map output files to (ShuffleClient ess.dir) and the ESS serves.',
  }),
  'ess.maxFetchBytes': bytes({
    default: 8 * 1024 * 1024,
    min: 4096,
    max: 64 * 1024 * 1024,
    category: 'ess',
    doc: 'Largest range one FETCH_BLOCKS answer carries; readers ask for larger regions in several ranges.',
  }),
  'ess.readConcurrency': int({
    default: 16,
    min: 1,
    max: 1024,
    category: 'ess',
    doc: 'Disk reads the ESS runs at once; further fetches queue (their wait counts in the fetch latency the throttling controller sees).',
  }),
  'ess.maxConnections': int({
    default: 4096,
    min: 1,
    category: 'ess',
    doc: 'Data connections open at once; one more is answered THROTTLED and closed, counted in sluice_ess_refused_connections_total.',
  }),
  'ess.frameTimeoutMs': duration({
    default: 60_000,
    min: 10,
    category: 'ess',
    doc: 'A request frame must arrive whole within this long of its first byte, else its connection is closed (a peer trickling bytes cannot hold a connection and its partial frame).',
  }),
  'ess.manager': str({
    default: '',
    category: 'ess',
    doc: 'The manager gRPC address(es), comma-separated; set, the ESS deletes the map outputs of apps the manager no longer knows (ended or expired) every `ess.appSweepIntervalMs`. Empty: only drivers delete outputs (REMOVE_OUTPUTS).',
  }),
  'ess.appSweepIntervalMs': duration({
    default: 60_000,
    min: 10,
    category: 'ess',
    doc: 'How often the ESS asks `ess.manager` which apps are registered; an app directory unknown to it and untouched for this long is deleted.',
  }),
  'ess.maxInFlightPerConnection': int({
    default: 64,
    min: 1,
    category: 'ess',
    doc: 'Requests served at once per connection; beyond it the ESS stops reading the socket (back-pressure).',
  }),
  'agent.host': str({
    default: '127.0.0.1',
    category: 'agent',
    doc: 'Address the allocation agent listens on (gRPC, and HTTP unless `agent.httpBind` is set). Flag `--bind` (or `--host`).',
  }),
  'agent.httpBind': str({
    default: '',
    category: 'agent',
    doc: 'Address the HTTP port listens on; empty: `agent.host`.',
  }),
  'agent.grpcPort': int({
    default: 9297,
    ...PORT,
    category: 'agent',
    doc: 'gRPC port (AgentService); 0 picks a free port.',
  }),
  'agent.httpPort': int({
    default: 9298,
    ...PORT,
    category: 'agent',
    doc: 'HTTP port: /metrics, /healthz, /readyz; 0 picks a free port.',
  }),
  'agent.sqlitePath': str({
    default: '.sluice/agent.db',
    category: 'agent',
    doc: 'SQLite file of the stage history and the trained initial-point model.',
  }),
  'agent.managerAddress': str({
    default: '',
    category: 'agent',
    doc: 'Manager gRPC address (host:port), one address or a comma-separated list, read for the shuffle-capacity guard; empty = no guard input.',
  }),
  'agent.clusterPollMs': duration({
    default: 2_000,
    min: 10,
    category: 'agent',
    doc: "How often the agent reads the manager's cluster state (worker memory, throttled apps).",
  }),
  'agent.idleTimeoutMs': duration({
    default: 60_000,
    min: 0,
    category: 'agent',
    doc: 'A drained executor idle this long, with no unacknowledged pushes, is released.',
  }),
  'agent.stepSize': int({
    default: 2,
    min: 1,
    max: 50,
    category: 'agent',
    doc: 'Executors added or removed by one search step.',
  }),
  'agent.maxExecutors': int({
    default: 50,
    min: 1,
    category: 'agent',
    doc: 'Upper bound on a stage’s level when the engine does not send one.',
  }),
  'agent.guardHighFraction': float({
    default: 0.8,
    min: 0,
    max: 1,
    category: 'agent',
    doc: 'Shuffle-capacity guard: hold map-stage scale-up above this worker memory fraction.',
  }),
  'agent.guardLowFraction': float({
    default: 0.6,
    min: 0,
    max: 1,
    category: 'agent',
    doc: 'Shuffle-capacity guard: resume scale-up below this worker memory fraction.',
  }),
  'agent.priceCpuHour': float({
    default: 0.154,
    min: 0,
    category: 'agent',
    doc: 'Price of one vCPU hour in the expected-cost model ($).',
  }),
  'agent.priceGbHour': float({
    default: 0.0146,
    min: 0,
    category: 'agent',
    doc: 'Price of one GB-hour of executor memory in the expected-cost model ($).',
  }),
  'agent.retrainEvery': int({
    default: 10,
    min: 1,
    category: 'agent',
    doc: 'Retrain the initial-point model after this many completed stages.',
  }),
  'agent.shutdownGraceMs': duration({
    default: 5_000,
    min: 0,
    category: 'agent',
    doc: 'On SIGTERM, how long running calls may finish.',
  }),
  'test.fetchDelayMs': duration({
    default: 0,
    min: 0,
    internal: true,
    category: 'test',
    doc: 'Fault injection: delay every chunk read of the read server (and every ESS range read) by this long (a slow disk for reads; 0 = off).',
  }),
  'test.diskFaultFile': str({
    default: '',
    internal: true,
    category: 'test',
    doc: 'Fault injection: while `<disk dir>/<this name>` exists, every write, commit and probe on that disk fails with EIO (a disk that starts failing).',
  }),
  'test.diskWriteBytesPerSec': bytes({
    default: 0,
    min: 0,
    internal: true,
    category: 'test',
    doc: 'Fault injection: throttle every disk write to this rate (0 = off).',
  }),
  'test.advertiseDataPort': int({
    default: 0,
    ...PORT,
    internal: true,
    category: 'test',
    doc: 'Fault injection: the data port the worker advertises to the manager instead of its own (a test proxy in front of it that can cut the network); 0 = its own.',
  }),
} as const satisfies Record<string, Spec<unknown>>;

export type ConfigKey = keyof typeof SPECS;
/** Typed values: the spec helpers widen numbers and strings, enums keep their literal union. */
export type ConfigValues = { readonly [K in ConfigKey]: (typeof SPECS)[K]['default'] };

export const CONFIG_ENTRIES: readonly ConfigEntry[] = Object.freeze(
  Object.entries(SPECS).map(([key, spec]) => Object.freeze({ key, ...spec }) as ConfigEntry),
);

export const CONFIG_BY_KEY: ReadonlyMap<string, ConfigEntry> = new Map(
  CONFIG_ENTRIES.map((e) => [e.key, e]),
);
