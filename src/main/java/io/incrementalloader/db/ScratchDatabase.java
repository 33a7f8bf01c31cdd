package io.incrementalloader.db;

import io.incrementalloader.UserError;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A database that a command (bench, demo) creates for itself on the configured server, dropped and created again at
 * each use. It carries a marker (a comment on the database), and a database of that name without the marker, which
 * someone else created, is never dropped.
 */
public final class ScratchDatabase {
    private ScratchDatabase() {
    }

    /** The comment that marks the databases {@code command} created. */
    public static String marker(String command) {
        return "incremental-loader " + command + " scratch database: " + command + " drops and recreates it";
    }

    /**
     * Drops {@code name} if {@code command} created it, creates it afresh and marks it; returns the settings that
     * reach it. {@code name} must be a plain lower-case identifier. Throws the server's SQLException when the role
     * may not create databases, and a UserError when a database of that name is someone else's.
     */
    public static ConnectionSettings recreate(ConnectionSettings server, String name, String command) throws SQLException {
        if (!name.matches("[a-z_][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("not a plain lower-case database name: " + name);
        }
        String marker = marker(command);
        try (Connection admin = server.open(); Statement statement = admin.createStatement()) {
            try (PreparedStatement existing = admin.prepareStatement("select coalesce(pg_catalog.shobj_description(oid,"
                    + " 'pg_database'), '') from pg_catalog.pg_database where datname = ?")) {
                existing.setString(1, name);
                try (ResultSet row = existing.executeQuery()) {
                    if (row.next() && !marker.equals(row.getString(1))) {
                        throw new UserError("Database " + name + " exists and " + command + " did not create it, so "
                                + command + " will not drop it; choose another name.");
                    }
                }
            }
            statement.execute("drop database if exists " + name + " with (force)");
            statement.execute("create database " + name);
            statement.execute("comment on database " + name + " is '" + marker + "'");
        }
        return server.withDatabase(name);
    }
}
