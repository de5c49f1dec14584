// The remote tier from its URL (storage.remote, `--remote`): `hdfs://namenode:httpPort/path`
// (WebHDFS) or `s3://bucket/prefix`. Each worker writes under `<path>/<workerId>/`, so workers
// sharing one URL never touch each other's files and a restarted worker finds its own.
import { ConfigError } from '../../common/errors.js';
import type { Config } from '../../common/config/index.js';
import { native } from '../../common/native.js';
import type { Logger } from '../../common/obs/logger.js';
import { HdfsStorage } from './hdfs/hdfs-storage.js';
import { S3Storage } from './s3/s3-storage.js';
import type { Storage } from './storage.js';

export interface RemoteStorageContext {
  readonly workerId: string;
  readonly logger: Logger;
}

export function remoteStorage(url: string, config: Config, ctx: RemoteStorageContext): Storage {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      'storage.remote',
      `is not a URL: ${JSON.stringify(url)} (hdfs://host:port/path or s3://bucket/prefix)`,
    );
  }
  const root = `${url.replace(/\/+$/, '')}/${ctx.workerId}`;
  switch (parsed.protocol) {
    case 'hdfs:':
      if (!parsed.port)
        throw new ConfigError(
          'storage.remote',
          `${url} needs the NameNode's HTTP (WebHDFS) port, e.g. hdfs://namenode:9870/sluice`,
        );
      return new HdfsStorage({
        url: root,
        user: config['storage.hdfs.user'] || undefined,
        bufferBytes: config['storage.remoteBufferBytes'],
        writesInFlight: config['storage.remoteWritesInFlight'],
        native: native(),
        logger: ctx.logger,
      });
    case 's3:':
      if (!parsed.hostname)
        throw new ConfigError('storage.remote', `${url} names no bucket (s3://bucket/prefix)`);
      return new S3Storage({
        url: root,
        endpoint: config['storage.s3.endpoint'] || undefined,
        region: config['storage.s3.region'],
        forcePathStyle: config['storage.s3.forcePathStyle'],
        partBytes: config['storage.s3.partBytes'],
        writesInFlight: config['storage.remoteWritesInFlight'],
        native: native(),
        logger: ctx.logger,
      });
    default:
      throw new ConfigError(
        'storage.remote',
        `${url}: unsupported scheme ${parsed.protocol} (hdfs:// or s3://)`,
      );
  }
}
