package sluice.bench;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

import org.apache.spark.network.TransportContext;
import org.apache.spark.network.buffer.ManagedBuffer;
import org.apache.spark.network.server.TransportServer;
import org.apache.spark.network.shuffle.BlockFetchingListener;
import org.apache.spark.network.shuffle.ExecutorDiskUtils;
import org.apache.spark.network.shuffle.ExternalBlockHandler;
import org.apache.spark.network.shuffle.ExternalBlockStoreClient;
import org.apache.spark.network.shuffle.protocol.ExecutorShuffleInfo;
import org.apache.spark.network.util.MapConfigProvider;
import org.apache.spark.network.util.TransportConf;

/**
 * Spark's own External Shuffle Service as the peer of bench scenario 5 (bench/README.md). Three
 * commands, each run in its own JVM by bench/lib/spark-ess.mjs:
 *
 * <ul>
 *   <li>{@code write}: map outputs in Spark's sort-shuffle layout: per map one
 *       {@code shuffle_<shuffleId>_<mapId>_0.data} (every partition's block, in order) and one
 *       {@code .index} of numPartitions + 1 big-endian u64 offsets, placed in a blockmgr-style
 *       local dir by Spark's own ExecutorDiskUtils (hashed two-hex-digit subdirectories), plus a
 *       CRC-32 of every block for the reader to check against.
 *   <li>{@code serve}: Spark's TransportServer with an ExternalBlockHandler (the handler Spark's
 *       ExternalShuffleService runs), until its standard input closes.
 *   <li>{@code read}: a reader with Spark's ExternalBlockStoreClient (OneForOneBlockFetcher
 *       underneath): registers the executor's ExecutorShuffleInfo, warms up on a small shuffle,
 *       waits for "go" on standard input (the bench drops the page cache meanwhile), then reads
 *       every block of the measured shuffle, reducer by reducer, a fixed number of fetches in
 *       flight per reducer, and checks every block's size and CRC-32.
 * </ul>
 *
 * Every result is one JSON line on standard output; log lines go to standard error.
 */
public final class SparkEss {
  static final String APP_ID = "sluice-bench-spark";
  static final String EXEC_ID = "exec-0";
  /** Spark's default spark.diskStore.subDirectories. */
  static final int SUB_DIRS = 64;

  public static void main(String[] args) throws Exception {
    if (args.length == 0) usage("missing command");
    Map<String, String> opts = parse(args);
    switch (args[0]) {
      case "write" -> write(opts);
      case "serve" -> serve(opts);
      case "read" -> read(opts);
      default -> usage("unknown command " + args[0]);
    }
  }

  static void usage(String why) {
    System.err.println(
        "spark-ess: "
            + why
            + "\nusage: write --dir D --shuffle S --maps M --partitions P --block-bytes B\n"
            + "       serve --dir D\n"
            + "       read --dir D --port N --shuffle S --maps M --partitions P --block-bytes B\n"
            + "            --warmup-shuffle W --warmup-maps WM --reducers R --in-flight F"
            + " [--blocks-per-request K]");
    System.exit(2);
  }

  static Map<String, String> parse(String[] args) {
    Map<String, String> m = new HashMap<>();
    for (int i = 1; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) usage("bad argument " + args[i]);
      m.put(args[i].substring(2), args[i + 1]);
    }
    return m;
  }

  static String need(Map<String, String> o, String k) {
    String v = o.get(k);
    if (v == null) usage("--" + k + " is required");
    return v;
  }

  static int intOpt(Map<String, String> o, String k) {
    try {
      int v = Integer.parseInt(need(o, k));
      if (v < 1) usage("--" + k + " must be a positive integer");
      return v;
    } catch (NumberFormatException e) {
      usage("--" + k + " must be a positive integer");
      return 0;
    }
  }

  static String[] localDirs(Map<String, String> o) {
    return new String[] {new File(need(o, "dir"), "blockmgr-sluice").getAbsolutePath()};
  }

  static Path crcFile(Map<String, String> o, int shuffleId) {
    return Path.of(need(o, "dir"), "crc-" + shuffleId + ".bin");
  }

  // ---------------------------------------------------------------------------------- write

  static void write(Map<String, String> o) throws Exception {
    int shuffleId = intOpt(o, "shuffle");
    int maps = intOpt(o, "maps");
    int partitions = intOpt(o, "partitions");
    int blockBytes = intOpt(o, "block-bytes");
    String[] dirs = localDirs(o);
    // Incompressible content without generating 2 GB of random numbers: every block is a
    // slice of one random pool at an offset of its own, so blocks differ and CRCs check
    // that the right bytes came back.
    byte[] pool = new byte[64 << 20];
    new SplittableRandom(42).nextBytes(pool);
    int[] crcs = new int[maps * partitions];
    long started = System.nanoTime();
    ExecutorService threads = Executors.newFixedThreadPool(2);
    List<Future<?>> done = new ArrayList<>();
    AtomicInteger next = new AtomicInteger();
    for (int t = 0; t < 2; t++)
      done.add(
          threads.submit(
              () -> {
                for (int m = next.getAndIncrement(); m < maps; m = next.getAndIncrement())
                  writeMap(dirs, shuffleId, m, partitions, blockBytes, pool, crcs);
                return null;
              }));
    for (Future<?> f : done) f.get();
    threads.shutdown();
    ByteBuffer crcBytes = ByteBuffer.allocate(crcs.length * 4);
    crcBytes.asIntBuffer().put(crcs);
    Files.write(crcFile(o, shuffleId), crcBytes.array());
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf(
        "{\"event\":\"written\",\"shuffleId\":%d,\"bytes\":%d,\"seconds\":%.3f}%n",
        shuffleId, (long) maps * partitions * blockBytes, seconds);
  }

  /** Spark's ExecutorDiskUtils places the file; the hashed subdirectory may not exist yet. */
  static File shuffleFile(String[] dirs, String name) {
    File f = new File(ExecutorDiskUtils.getFilePath(dirs, SUB_DIRS, name));
    f.getParentFile().mkdirs();
    return f;
  }

  static void writeMap(
      String[] dirs, int shuffleId, int mapId, int partitions, int blockBytes, byte[] pool,
      int[] crcs)
      throws IOException {
    String base = "shuffle_" + shuffleId + "_" + mapId + "_0";
    File data = shuffleFile(dirs, base + ".data");
    File index = shuffleFile(dirs, base + ".index");
    CRC32 crc = new CRC32();
    try (FileChannel ch =
            FileChannel.open(
                data.toPath(),
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
        DataOutputStream idx =
            new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(index.toPath())))) {
      ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
      long offset = 0;
      idx.writeLong(0);
      for (int p = 0; p < partitions; p++) {
        int at = blockOffset(mapId, p, pool.length - blockBytes);
        crc.reset();
        crc.update(pool, at, blockBytes);
        crcs[mapId * partitions + p] = (int) crc.getValue();
        for (int done = 0; done < blockBytes; ) {
          int n = Math.min(buf.remaining(), blockBytes - done);
          buf.put(pool, at + done, n);
          done += n;
          if (!buf.hasRemaining()) flush(ch, buf);
        }
        offset += blockBytes;
        idx.writeLong(offset);
      }
      flush(ch, buf);
    }
  }

  static int blockOffset(int mapId, int partition, int range) {
    long h = (mapId * 1_000_003L + partition) * 0x9E3779B97F4A7C15L;
    return (int) Long.remainderUnsigned(h, range);
  }

  static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
    buf.flip();
    while (buf.hasRemaining()) ch.write(buf);
    buf.clear();
  }

  // ---------------------------------------------------------------------------------- serve

  static TransportConf conf() {
    return new TransportConf("shuffle", new MapConfigProvider(Map.of()));
  }

  static void serve(Map<String, String> o) throws Exception {
    TransportConf conf = conf();
    // As Spark's ExternalShuffleService does: no recovery file (null), idle connections closed.
    ExternalBlockHandler handler = new ExternalBlockHandler(conf, null);
    TransportContext context = new TransportContext(conf, handler, true);
    TransportServer server = context.createServer("127.0.0.1", 0, List.of());
    System.out.printf("{\"event\":\"spark ess started\",\"port\":%d}%n", server.getPort());
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    while (in.readLine() != null) {
      // Runs until the bench closes standard input.
    }
    handler.applicationRemoved(APP_ID, false);
    server.close();
    handler.close();
    context.close();
  }

  // ---------------------------------------------------------------------------------- read

  /** One reducer's outcome of one fetch, handed from Netty's thread to the reducer's. */
  record Fetched(String blockId, ManagedBuffer data, Throwable error) {}

  static final class Totals {
    final AtomicInteger blocks = new AtomicInteger();
    final AtomicLong bytes = new AtomicLong();
  }

  static void read(Map<String, String> o) throws Exception {
    int port = intOpt(o, "port");
    int shuffleId = intOpt(o, "shuffle");
    int maps = intOpt(o, "maps");
    int partitions = intOpt(o, "partitions");
    int blockBytes = intOpt(o, "block-bytes");
    int warmupShuffle = intOpt(o, "warmup-shuffle");
    int warmupMaps = intOpt(o, "warmup-maps");
    int reducers = intOpt(o, "reducers");
    int inFlight = intOpt(o, "in-flight");
    int perRequest = o.containsKey("blocks-per-request") ? intOpt(o, "blocks-per-request") : 1;
    ExternalBlockStoreClient client = new ExternalBlockStoreClient(conf(), null, false, 10_000);
    client.init(APP_ID);
    client.registerWithShuffleServer(
        "127.0.0.1", port, EXEC_ID, new ExecutorShuffleInfo(localDirs(o), SUB_DIRS, "sort"));
    ExecutorService lanes = Executors.newFixedThreadPool(reducers);
    try {
      readShuffle(client, port, lanes, o, warmupShuffle, warmupMaps, partitions, blockBytes,
          reducers, inFlight, perRequest);
      System.out.println("{\"event\":\"ready\"}");
      System.out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line = in.readLine();
      if (!"go".equals(line)) throw new IllegalStateException("expected 'go', got " + line);
      long started = System.nanoTime();
      long cpuStarted = processCpuNanos();
      Totals t = readShuffle(client, port, lanes, o, shuffleId, maps, partitions, blockBytes,
          reducers, inFlight, perRequest);
      double seconds = (System.nanoTime() - started) / 1e9;
      double cpuSeconds = (processCpuNanos() - cpuStarted) / 1e9;
      System.out.printf(
          "{\"event\":\"read\",\"blocks\":%d,\"bytes\":%d,\"seconds\":%.3f,"
              + "\"readerCpuSeconds\":%.3f}%n",
          t.blocks.get(), t.bytes.get(), seconds, cpuSeconds);
    } finally {
      lanes.shutdownNow();
      client.close();
    }
  }

  /** This JVM's CPU time (all threads, user + system). */
  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /**
   * Reads every block of one shuffle: `reducers` reducers at a time (one thread each), each
   * keeping `inFlight` fetch requests of `perRequest` blocks outstanding to the ESS, like
   * Sluice's ESS reader keeps essFetchParallelism maps' regions in flight per reducer.
   */
  static Totals readShuffle(
      ExternalBlockStoreClient client, int port, ExecutorService lanes, Map<String, String> o,
      int shuffleId, int maps, int partitions, int blockBytes, int reducers, int inFlight,
      int perRequest)
      throws Exception {
    ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(crcFile(o, shuffleId)));
    if (raw.capacity() != maps * partitions * 4)
      throw new IllegalStateException(
          "crc-" + shuffleId + ".bin holds " + raw.capacity() / 4 + " CRCs, expected "
              + maps * partitions);
    int[] crcs = new int[maps * partitions];
    raw.asIntBuffer().get(crcs);
    Totals totals = new Totals();
    AtomicInteger next = new AtomicInteger();
    List<Future<?>> done = new ArrayList<>();
    for (int l = 0; l < reducers; l++)
      done.add(
          lanes.submit(
              () -> {
                for (int r = next.getAndIncrement(); r < partitions; r = next.getAndIncrement())
                  readPartition(client, port, shuffleId, r, maps, partitions, blockBytes, crcs,
                      inFlight, perRequest, totals);
                return null;
              }));
    for (Future<?> f : done) f.get();
    if (totals.blocks.get() != maps * partitions)
      throw new IllegalStateException(
          "read " + totals.blocks.get() + " blocks of " + maps * partitions);
    return totals;
  }

  static void readPartition(
      ExternalBlockStoreClient client, int port, int shuffleId, int reduceId, int maps,
      int partitions, int blockBytes, int[] crcs, int inFlight, int perRequest, Totals totals)
      throws Exception {
    BlockingQueue<Fetched> results = new ArrayBlockingQueue<>(maps + 1);
    BlockFetchingListener listener =
        new BlockFetchingListener() {
          @Override
          public void onBlockFetchSuccess(String blockId, ManagedBuffer data) {
            data.retain();
            results.add(new Fetched(blockId, data, null));
          }

          @Override
          public void onBlockFetchFailure(String blockId, Throwable e) {
            results.add(new Fetched(blockId, null, e));
          }
        };
    int requested = 0;
    int outstanding = 0;
    CRC32 crc = new CRC32();
    for (int received = 0; received < maps; received++) {
      while (requested < maps && outstanding < inFlight * perRequest) {
        int n = Math.min(perRequest, maps - requested);
        String[] ids = new String[n];
        for (int i = 0; i < n; i++)
          ids[i] = "shuffle_" + shuffleId + "_" + (requested + i) + "_" + reduceId;
        client.fetchBlocks("127.0.0.1", port, EXEC_ID, ids, listener, null);
        requested += n;
        outstanding += n;
      }
      Fetched f = results.take();
      outstanding--;
      if (f.error != null)
        throw new IllegalStateException("fetch of " + f.blockId + " failed", f.error);
      try {
        int mapId = Integer.parseInt(f.blockId.split("_")[2]);
        ByteBuffer b = f.data.nioByteBuffer();
        if (b.remaining() != blockBytes)
          throw new IllegalStateException(
              f.blockId + ": " + b.remaining() + " bytes, expected " + blockBytes);
        crc.reset();
        crc.update(b);
        if ((int) crc.getValue() != crcs[mapId * partitions + reduceId])
          throw new IllegalStateException(f.blockId + ": CRC-32 differs from what was written");
        totals.blocks.incrementAndGet();
        totals.bytes.addAndGet(blockBytes);
      } finally {
        f.data.release();
      }
    }
  }
}
