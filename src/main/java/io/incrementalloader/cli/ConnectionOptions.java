package io.incrementalloader.cli;

import io.incrementalloader.UserError;
import io.incrementalloader.db.ConnectionSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The connection options every database command takes; see {@link ConnectionSettings} for the fallbacks. */
public final class ConnectionOptions {
    @Option(names = "--url", paramLabel = "JDBC_URL", description = "jdbc:postgresql://HOST:PORT/DB (else LOADER_DB_URL, PG*, localhost).")
    String url;

    @Option(names = "--user", description = "Database user (else LOADER_DB_USER, PGUSER, postgres).")
    String user;

    @Option(names = "--password", description = "Database password. Every user of the machine sees it in `ps`:"
            + " prefer LOADER_DB_PASSWORD or --password-file.")
    String password;

    @Option(names = "--password-file", paramLabel = "FILE", description = "Read the database password from the first"
            + " line of FILE (readable by the service's user alone).")
    Path passwordFile;

    public ConnectionSettings settings() {
        if (password != null && passwordFile != null) {
            throw new UserError("Give --password or --password-file, not both.");
        }
        return ConnectionSettings.resolve(url, user, passwordFile == null ? password : readPassword(passwordFile),
                System.getenv());
    }

    private static String readPassword(Path file) {
        try {
            String content = Files.readString(file);
            int newline = content.indexOf('\n');
            return (newline < 0 ? content : content.substring(0, newline)).replaceAll("\r$", "");
        } catch (NoSuchFileException e) {
            throw new UserError("The password file " + file + " does not exist.");
        } catch (IOException e) {
            throw new UserError("Cannot read the password file " + file + ": " + e.getMessage());
        }
    }
}
