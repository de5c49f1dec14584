// A real HDFS for the tests of Sluice's HDFS storage (src/testing/hdfs.ts starts it): Hadoop's
// MiniDFSCluster, a NameNode and N DataNodes in this one JVM, with WebHDFS on. Everything
// listens on 127.0.0.1 (ports picked by the OS); the data lives under the base directory
// given on the command line.
//
//   java -cp target/classes:$(cat target/classpath.txt) sluice.MiniHdfs \
//       --base-dir DIR [--datanodes 3] [--replication 2] [--block-size BYTES] [--permissions]
//
// When the cluster serves, one JSON line goes to stdout:
//   {"ready":true,"webhdfs":"http://127.0.0.1:PORT","rpcPort":...,"dataNodes":[...]}
// then commands are read from stdin, one per line, each answered by one JSON line:
//   stopDataNode <i> | restartDataNode <i> | stopNameNode | restartNameNode | shutdown
// stdin at EOF is a shutdown too, so a dead parent never leaves a JVM behind. Everything
// Hadoop logs goes to stderr (stdout carries only the JSON lines).
//
// The configuration is for tests: 1 s heartbeats, a DataNode that stops answering is stale
// after 3 s (no new blocks go there) and dead after ~12 s, safe mode ends at once, and the
// soft lease limit is 3 s instead of 60 s: a file left open by a WebHDFS write that died
// with its DataNode may be taken over (its lease recovered) by the next APPEND after 3 s.
// With --permissions they are checked (simple auth: the user is WebHDFS's user.name) and "/"
// is world-writable, so a test can provoke an AccessControlException in a directory of its own.
package sluice;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.server.datanode.DataNode;

public final class MiniHdfs {
  private static final String HOST = "127.0.0.1";
  private static final int WAIT_MS = 60_000;
  private static final long STOP_TIMEOUT_MS = 15_000;

  /** The stdout JSON lines go to; System.out itself is pointed at stderr. */
  private final PrintStream json;
  private final MiniDFSCluster cluster;
  /**
   * DataNode i as the commands number it. MiniDFSCluster renumbers its own list when one
   * stops, so this keeps each slot's DataNode (null while stopped) and how to restart it.
   */
  private final List<DataNode> running = new ArrayList<>();
  private final List<MiniDFSCluster.DataNodeProperties> stopped = new ArrayList<>();

  private MiniHdfs(PrintStream json, MiniDFSCluster cluster) {
    this.json = json;
    this.cluster = cluster;
    for (DataNode dn : cluster.getDataNodes()) {
      running.add(dn);
      stopped.add(null);
    }
  }

  public static void main(String[] args) throws Exception {
    PrintStream json = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    System.setOut(System.err);

    String baseDir = null;
    int dataNodes = 3;
    int replication = 2;
    long blockSize = 0;
    boolean permissions = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--base-dir" -> baseDir = args[++i];
        case "--datanodes" -> dataNodes = Integer.parseInt(args[++i]);
        case "--replication" -> replication = Integer.parseInt(args[++i]);
        case "--block-size" -> blockSize = Long.parseLong(args[++i]);
        case "--permissions" -> permissions = true;
        default -> {
          System.err.println("unknown argument: " + args[i]);
          System.exit(2);
        }
      }
    }
    if (baseDir == null) {
      System.err.println("--base-dir is required");
      System.exit(2);
    }

    Configuration conf = configuration(replication, blockSize, permissions);
    MiniDFSCluster cluster =
        new MiniDFSCluster.Builder(conf, new File(baseDir))
            .numDataNodes(dataNodes)
            .nameNodePort(0)
            .nameNodeHttpPort(0)
            .checkDataNodeAddrConfig(true)
            .checkDataNodeHostConfig(true)
            .format(true)
            .build();
    try {
      cluster.waitActive();
      cluster.setLeasePeriod(3_000, 30_000);
      FileSystem fs = cluster.getFileSystem();
      fs.setPermission(new Path("/"), new FsPermission((short) 0777));
      MiniHdfs launcher = new MiniHdfs(json, cluster);
      launcher.ready();
      launcher.serve();
    } catch (Throwable t) {
      t.printStackTrace();
      stop(cluster, 1);
    }
    stop(cluster, 0);
  }

  /** Shuts the cluster down and exits; halts if the shutdown hangs (no parent may be left). */
  private static void stop(MiniDFSCluster cluster, int status) {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(STOP_TIMEOUT_MS);
              } catch (InterruptedException e) {
                return;
              }
              System.err.println("MiniHdfs: the shutdown hangs; halting");
              Runtime.getRuntime().halt(status == 0 ? 3 : status);
            });
    watchdog.setDaemon(true);
    watchdog.start();
    cluster.shutdown();
    System.exit(status);
  }

  private static Configuration configuration(int replication, long blockSize, boolean permissions) {
    Configuration conf = new HdfsConfiguration();
    conf.set("hadoop.security.authentication", "simple");
    conf.setBoolean("dfs.permissions.enabled", permissions);
    conf.setBoolean("dfs.webhdfs.enabled", true);
    conf.setInt("dfs.replication", replication);
    conf.setInt("dfs.namenode.replication.min", 1);
    if (blockSize > 0) {
      conf.setLong("dfs.namenode.fs-limits.min-block-size", 0);
      conf.setLong("dfs.blocksize", blockSize);
    }
    // Every listener on 127.0.0.1; the OS picks the ports (MiniDFSCluster writes the bound
    // ones back into the configuration, so restarts keep them).
    for (String key :
        new String[] {
          "dfs.namenode.rpc-address",
          "dfs.namenode.http-address",
          "dfs.namenode.https-address",
          "dfs.namenode.secondary.http-address",
          "dfs.namenode.secondary.https-address",
          "dfs.namenode.backup.address",
          "dfs.namenode.backup.http-address",
          "dfs.datanode.address",
          "dfs.datanode.http.address",
          "dfs.datanode.https.address",
          "dfs.datanode.ipc.address",
        }) {
      conf.set(key, HOST + ":0");
    }
    conf.set("dfs.datanode.hostname", HOST);
    conf.set("dfs.namenode.rpc-bind-host", HOST);
    conf.set("dfs.namenode.http-bind-host", HOST);
    // Fast failure detection and recovery, for tests.
    conf.setLong("dfs.heartbeat.interval", 1);
    conf.setInt("dfs.namenode.heartbeat.recheck-interval", 5_000);
    conf.setLong("dfs.namenode.stale.datanode.interval", 3_000);
    conf.setBoolean("dfs.namenode.avoid.read.stale.datanode", true);
    conf.setBoolean("dfs.namenode.avoid.write.stale.datanode", true);
    conf.setInt("dfs.namenode.safemode.extension", 0);
    conf.setInt("dfs.namenode.redundancy.interval.seconds", 1);
    conf.setInt("dfs.client.socket-timeout", 20_000);
    conf.setInt("ipc.client.connect.max.retries", 2);
    conf.setInt("ipc.client.connect.max.retries.on.timeouts", 2);
    return conf;
  }

  private void ready() {
    StringBuilder out = new StringBuilder();
    out.append("{\"ready\":true");
    out.append(",\"webhdfs\":").append(quote("http://" + HOST + ":" + httpPort()));
    out.append(",\"rpcPort\":").append(cluster.getNameNodePort());
    out.append(",\"pid\":").append(ProcessHandle.current().pid());
    out.append(",\"dataNodes\":[");
    for (int i = 0; i < running.size(); i++) {
      if (i > 0) out.append(',');
      out.append(dataNodeJson(i));
    }
    out.append("]}");
    json.println(out);
  }

  private int httpPort() {
    return cluster.getNameNode().getHttpAddress().getPort();
  }

  private String dataNodeJson(int i) {
    DataNode dn = running.get(i);
    if (dn == null) return "{\"index\":" + i + ",\"running\":false}";
    return "{\"index\":"
        + i
        + ",\"running\":true,\"xferPort\":"
        + dn.getXferPort()
        + ",\"httpPort\":"
        + dn.getInfoPort()
        + ",\"ipcPort\":"
        + dn.getIpcPort()
        + "}";
  }

  /** Reads commands until `shutdown` or EOF. */
  private void serve() throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      String[] words = line.trim().split("\\s+");
      if (words[0].isEmpty()) continue;
      if (words[0].equals("shutdown")) {
        json.println("{\"ok\":true,\"cmd\":\"shutdown\"}");
        return;
      }
      try {
        json.println(run(words));
      } catch (Throwable t) {
        t.printStackTrace();
        json.println(
            "{\"ok\":false,\"cmd\":" + quote(words[0]) + ",\"error\":" + quote(t.toString()) + "}");
      }
    }
  }

  private String run(String[] words) throws Exception {
    switch (words[0]) {
      case "stopDataNode" -> {
        int i = index(words);
        DataNode dn = running.get(i);
        if (dn == null) throw new IllegalStateException("DataNode " + i + " is stopped");
        stopped.set(i, cluster.stopDataNode(dn.getDatanodeId().getXferAddr()));
        running.set(i, null);
        return "{\"ok\":true,\"cmd\":\"stopDataNode\",\"index\":" + i + "}";
      }
      case "restartDataNode" -> {
        int i = index(words);
        MiniDFSCluster.DataNodeProperties props = stopped.get(i);
        if (props == null) throw new IllegalStateException("DataNode " + i + " is running");
        if (!cluster.restartDataNode(props, true)) {
          throw new IllegalStateException("DataNode " + i + " did not restart");
        }
        List<DataNode> all = cluster.getDataNodes();
        DataNode dn = all.get(all.size() - 1);
        cluster.waitDatanodeFullyStarted(dn, WAIT_MS);
        running.set(i, dn);
        stopped.set(i, null);
        return "{\"ok\":true,\"cmd\":\"restartDataNode\",\"dataNode\":" + dataNodeJson(i) + "}";
      }
      case "stopNameNode" -> {
        cluster.shutdownNameNode(0);
        return "{\"ok\":true,\"cmd\":\"stopNameNode\"}";
      }
      case "restartNameNode" -> {
        cluster.restartNameNode(0, true);
        return "{\"ok\":true,\"cmd\":\"restartNameNode\",\"httpPort\":" + httpPort() + "}";
      }
      default -> throw new IllegalArgumentException("unknown command: " + String.join(" ", words));
    }
  }

  private int index(String[] words) {
    if (words.length != 2) throw new IllegalArgumentException(words[0] + " takes an index");
    int i = Integer.parseInt(words[1]);
    if (i < 0 || i >= running.size()) {
      throw new IllegalArgumentException("no DataNode " + i + " (0.." + (running.size() - 1) + ")");
    }
    return i;
  }

  private static String quote(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    return out.append('"').toString();
  }
}
