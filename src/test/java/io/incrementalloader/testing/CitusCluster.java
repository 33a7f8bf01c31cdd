package io.incrementalloader.testing;

import io.incrementalloader.db.ConnectionSettings;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;

/**
 * A Citus cluster of the test run's own: a coordinator and two workers, each a PostgreSQL 15 made with initdb in a
 * temporary folder, on free ports, with shared_preload_libraries = 'citus'; started once a JVM, stopped when it
 * exits. The shared server is never touched. It needs the citus extension installed into the machine's PostgreSQL
 * 15 and root (the clusters run as user postgres, through runuser). Where either is missing the tests that use it
 * are skipped, except in CI, which installs Citus (.ci/run) and fails instead.
 */
public final class CitusCluster {
    private static final String BIN = "/usr/lib/postgresql/15/bin/";
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static CitusCluster instance;

    private final Path dir;
    private final List<Integer> ports;

    private CitusCluster(Path dir, List<Integer> ports) {
        this.dir = dir;
        this.ports = ports;
    }

    /** The run's cluster, started on first use; skips the calling test where Citus cannot run here. */
    public static synchronized CitusCluster get() {
        boolean possible = Files.exists(Path.of("/usr/lib/postgresql/15/lib/citus.so"))
                && "root".equals(System.getProperty("user.name"));
        if (System.getenv("CI") == null) {
            Assumptions.assumeTrue(possible, "needs Citus 13.2 installed into PostgreSQL 15, and root (runs in CI)");
        } else if (!possible) {
            throw new IllegalStateException("CI installs Citus (.ci/run) and runs as root");
        }
        if (instance == null) {
            try {
                instance = start();
            } catch (Exception e) {
                throw new IllegalStateException("the Citus test cluster did not start: " + e.getMessage(), e);
            }
        }
        return instance;
    }

    private static CitusCluster start() throws Exception {
        Path dir = Files.createTempDirectory("il-citus");
        run("chown", "postgres", dir.toString());
        List<Integer> ports = new ArrayList<>();
        for (int node = 0; node < 3; node++) {
            int port = freePort();
            ports.add(port);
            String data = dir + "/node" + node;
            asPostgres(BIN + "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync");
            asPostgres(BIN + "pg_ctl", "-D", data, "-w", "-l", dir + "/node" + node + ".log", "-o",
                    "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c shared_preload_libraries=citus"
                            + " -c max_prepared_transactions=100 -c max_connections=200 -c fsync=off"
                            + " -c shared_buffers=256MB", "start");
        }
        CitusCluster cluster = new CitusCluster(dir, ports);
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::stop));
        return cluster;
    }

    private void stop() {
        try {
            for (int node = 0; node < ports.size(); node++) {
                asPostgres(BIN + "pg_ctl", "-D", dir + "/node" + node, "-m", "immediate", "-w", "stop");
            }
            run("rm", "-rf", dir.toString());
        } catch (Exception ignored) {
            // The JVM is exiting; the folder is temporary.
        }
    }

    public int coordinatorPort() {
        return ports.get(0);
    }

    public List<Integer> workerPorts() {
        return ports.subList(1, ports.size());
    }

    /**
     * A new database on every node, with the citus extension, and the workers added to the coordinator's: what a
     * DBA does before `migrate` (docs/scale-out.md). Returns the coordinator's.
     */
    public ConnectionSettings createDatabase(String hint) {
        String name = ("ct_" + hint.replaceAll("[^A-Za-z0-9]", "_") + "_" + DATABASES.incrementAndGet()).toLowerCase();
        name = name.length() > 60 ? name.substring(name.length() - 60) : name;
        for (int port : ports) {
            execute(node(port, "postgres"), "create database " + name);
            execute(node(port, name), "create extension citus");
        }
        ConnectionSettings coordinator = node(coordinatorPort(), name);
        execute(coordinator, "select citus_set_coordinator_host('127.0.0.1', " + coordinatorPort() + ")");
        for (int port : workerPorts()) {
            execute(coordinator, "select citus_add_node('127.0.0.1', " + port + ")");
        }
        return coordinator;
    }

    public void dropDatabase(ConnectionSettings database) {
        String name = database.url().replaceAll("^.*/([^/?]+)(\\?.*)?$", "$1");
        // A session killed by a test may leave a transaction prepared on a worker (two-phase commit): Citus finishes
        // it (recover_prepared_transactions); one it no longer knows is rolled back, as the database goes anyway.
        execute(database, "select recover_prepared_transactions()");
        for (int port : ports) {
            try (Connection connection = node(port, "postgres").open(); Statement statement = connection.createStatement();
                 java.sql.ResultSet gids = statement.executeQuery("select gid from pg_prepared_xacts where database = '"
                         + name + "'")) {
                List<String> left = new ArrayList<>();
                while (gids.next()) {
                    left.add(gids.getString(1));
                }
                for (String gid : left) {
                    execute(node(port, name), "rollback prepared '" + gid + "'");
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
        for (int port : ports) {
            execute(node(port, "postgres"), "drop database if exists " + name + " with (force)");
        }
    }

    /** The same database on another node of the cluster (a worker's port, to look at its shards). */
    public ConnectionSettings node(int port, String database) {
        return new ConnectionSettings("jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres", null, true);
    }

    private static void execute(ConnectionSettings settings, String sql) {
        try (Connection connection = settings.open(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void asPostgres(String... command) throws Exception {
        String[] full = new String[command.length + 4];
        full[0] = "runuser";
        full[1] = "-u";
        full[2] = "postgres";
        full[3] = "--";
        System.arraycopy(command, 0, full, 4, command.length);
        run(full);
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed");
        }
    }
}
