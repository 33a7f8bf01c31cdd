package io.incrementalloader.cli;

import io.incrementalloader.db.ConnectionSettings;
import picocli.CommandLine.Option;

/** The connection options every database command takes; see {@link ConnectionSettings} for the fallbacks. */
public final class ConnectionOptions {
    @Option(names = "--url", paramLabel = "JDBC_URL", description = "jdbc:postgresql://HOST:PORT/DB (else LOADER_DB_URL, PG*, localhost).")
    String url;

    @Option(names = "--user", description = "Database user (else LOADER_DB_USER, PGUSER, postgres).")
    String user;

    @Option(names = "--password", description = "Database password (else LOADER_DB_PASSWORD, PGPASSWORD).")
    String password;

    public ConnectionSettings settings() {
        return ConnectionSettings.resolve(url, user, password, System.getenv());
    }
}
