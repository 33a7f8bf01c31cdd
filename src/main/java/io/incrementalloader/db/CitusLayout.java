package io.incrementalloader.db;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loader on a Citus coordinator: after the migrations, which build the single server's layout, {@code migrate}
 * distributes the tables by lane (db/citus/layout.sql, once) and puts the Citus routines in place of the single
 * server's (db/citus/landing.sql, loading.sql, lifecycle.sql and reporting.sql, since the repeatable migrations make the single server's again when
 * they change). A database without the {@code citus} extension, or whose cluster has no worker yet, is left as a
 * single server: adding workers later and running {@code migrate} again lays it out then.
 */
public final class CitusLayout {
    private static final Logger log = LoggerFactory.getLogger("io.incrementalloader.migrate");

    /** The Citus layout's routines, made in this order after the repeatable migrations. */
    private static final List<String> ROUTINES = List.of("landing.sql", "loading.sql",
            "lifecycle.sql", "reporting.sql");

    private CitusLayout() {
    }

    /** Whether the database is a Citus coordinator with at least one worker. */
    public static boolean isCluster(Connection connection) throws SQLException {
        try (Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("select exists (select 1 from pg_catalog.pg_extension"
                     + " where extname = 'citus')")) {
            row.next();
            if (!row.getBoolean(1)) {
                return false;
            }
        }
        try (Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("select count(*) from pg_catalog.pg_dist_node"
                     + " where noderole = 'primary' and isactive and groupid <> 0")) {
            row.next();
            return row.getLong(1) > 0;
        }
    }

    /** Whether the loader's tables are distributed (the layout was applied). */
    public static boolean isLaidOut(Connection connection) throws SQLException {
        try (Statement query = connection.createStatement();
             ResultSet row = query.executeQuery("select pg_catalog.to_regclass('test_mv.landed_documents') is not null")) {
            row.next();
            return row.getBoolean(1);
        }
    }

    /**
     * Lays the tables out on the cluster if it is one, and makes its routines again when they changed or the
     * migrations just ran (and so may have made the single server's); returns whether it is a cluster. When neither,
     * it only reads, so that a loading role of least privilege goes on.
     */
    static boolean apply(ConnectionSettings settings, boolean migrationsRan) {
        try (Connection connection = settings.open()) {
            if (!isCluster(connection)) {
                return false;
            }
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                // One migrate at a time: the next finds the layout made.
                statement.execute("select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('test_mv.citus_layout'))");
                String routines = ROUTINES.stream().map(CitusLayout::script).collect(java.util.stream.Collectors.joining("\n"));
                String checksum = md5(routines);
                if (!isLaidOut(connection)) {
                    log.info("a Citus coordinator with workers: distributing the loader's tables by lane");
                    statement.execute(script("layout.sql"));
                } else if (!migrationsRan && List.of(checksum, "unreadable").contains(routinesChecksum(statement))) {
                    connection.rollback();
                    return true;
                }
                statement.execute(routines);
                statement.execute("update test_mv.citus_layout set routines_checksum = '" + checksum + "'");
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            }
            return true;
        } catch (SQLException e) {
            throw new IllegalStateException("laying the loader's tables out on the Citus cluster failed: "
                    + e.getMessage(), e);
        }
    }

    /** The checksum of the routines in place; a role that may not read it (a loader's) takes them as current. */
    private static String routinesChecksum(Statement statement) throws SQLException {
        try (ResultSet row = statement.executeQuery("select case when pg_catalog.has_table_privilege("
                + "'test_mv.citus_layout', 'select') then (select l.routines_checksum from test_mv.citus_layout l)"
                + " else 'unreadable' end")) {
            return row.next() ? row.getString(1) : null;
        }
    }

    private static String md5(String text) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String script(String name) {
        try (InputStream in = CitusLayout.class.getResourceAsStream("/db/citus/" + name)) {
            if (in == null) {
                throw new IllegalStateException("db/citus/" + name + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
