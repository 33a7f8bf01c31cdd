package io.incrementalloader.db;

import io.incrementalloader.Printable;
import io.incrementalloader.UserError;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where the database is. Resolved as the specification says: explicit options, then LOADER_DB_URL / LOADER_DB_USER /
 * LOADER_DB_PASSWORD, then PostgreSQL's own PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, then
 * localhost:5432, database and user {@code postgres}. A {@code user=} or {@code password=} in the URL counts as
 * given with the URL: below --user/--password, above the variables.
 *
 * <p>The URL kept never carries a user or a password: the driver lets the URL's parameters override the
 * connection's properties, so a {@code user=} left in it would silently connect as someone other than the role
 * the logs name.
 *
 * @param explicit whether anything named a database (an option or a variable), as opposed to the defaults
 */
public record ConnectionSettings(String url, String user, String password, boolean explicit) {

    public ConnectionSettings {
        Map<String, String> credentials = credentialsIn(url);
        url = withoutCredentials(url);
        user = user != null ? user : credentials.getOrDefault("user", "postgres");
        password = password != null ? password : credentials.get("password");
    }

    public static ConnectionSettings resolve(String urlOption, String userOption, String passwordOption,
                                             Map<String, String> env) {
        boolean explicit = urlOption != null || env.get("LOADER_DB_URL") != null
                || env.get("PGHOST") != null || env.get("PGPORT") != null || env.get("PGDATABASE") != null;
        String url = firstOf(urlOption, env.get("LOADER_DB_URL"));
        if (url == null) {
            url = "jdbc:postgresql://" + orElse(env.get("PGHOST"), "localhost") + ":" + orElse(env.get("PGPORT"), "5432")
                    + "/" + orElse(env.get("PGDATABASE"), "postgres");
        }
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new UserError("The database URL '" + masked(url) + "' is not a PostgreSQL JDBC URL; write it as "
                    + "jdbc:postgresql://HOST:PORT/DATABASE (--url or LOADER_DB_URL).");
        }
        if (databaseIn(url).isEmpty()) {
            throw new UserError("The database URL '" + masked(url) + "' names no database, and the server would choose one (the user's own); name it:"
                    + " jdbc:postgresql://HOST:PORT/DATABASE (--url or LOADER_DB_URL).");
        }
        Map<String, String> inUrl = credentialsIn(url);
        String user = firstOf(userOption, inUrl.get("user"), env.get("LOADER_DB_USER"), env.get("PGUSER"), "postgres");
        String password = firstOf(passwordOption, inUrl.get("password"), env.get("LOADER_DB_PASSWORD"),
                env.get("PGPASSWORD"));
        return new ConnectionSettings(url, user, password, explicit);
    }

    public static ConnectionSettings fromEnvironment() {
        return resolve(null, null, null, System.getenv());
    }

    /** The database a PostgreSQL JDBC URL names: jdbc:postgresql:DB, jdbc:postgresql://HOST[:PORT]/DB[?...]. */
    static String databaseIn(String url) {
        String rest = url.substring("jdbc:postgresql:".length());
        int query = rest.indexOf('?');
        rest = query < 0 ? rest : rest.substring(0, query);
        if (rest.startsWith("//")) {
            int slash = rest.indexOf('/', 2);
            return slash < 0 ? "" : rest.substring(slash + 1);
        }
        return rest.startsWith("/") ? rest.substring(1) : rest;
    }

    private static final Set<String> CREDENTIALS = Set.of("user", "password");

    /** The user= and password= parameters of a JDBC URL's query, decoded. */
    private static Map<String, String> credentialsIn(String url) {
        Map<String, String> found = new HashMap<>();
        int query = url.indexOf('?');
        if (query >= 0) {
            for (String parameter : url.substring(query + 1).split("&")) {
                int equals = parameter.indexOf('=');
                String name = equals < 0 ? parameter : parameter.substring(0, equals);
                if (CREDENTIALS.contains(name)) {
                    found.put(name, URLDecoder.decode(equals < 0 ? "" : parameter.substring(equals + 1),
                            StandardCharsets.UTF_8));
                }
            }
        }
        return found;
    }

    /** The URL less its user= and password= parameters. */
    private static String withoutCredentials(String url) {
        int query = url.indexOf('?');
        if (query < 0) {
            return url;
        }
        String kept = Arrays.stream(url.substring(query + 1).split("&"))
                .filter(p -> !p.isEmpty() && !CREDENTIALS.contains(p.contains("=") ? p.substring(0, p.indexOf('=')) : p))
                .collect(Collectors.joining("&"));
        return url.substring(0, query) + (kept.isEmpty() ? "" : "?" + kept);
    }

    /** The database the URL names. */
    public String databaseName() {
        return databaseIn(url);
    }

    /** The server the URL names, HOST:PORT (or what the URL says instead, for a socket). */
    public String server() {
        String rest = url.substring("jdbc:postgresql:".length());
        if (!rest.startsWith("//")) {
            return "localhost";
        }
        int slash = rest.indexOf('/', 2);
        return slash < 0 ? rest.substring(2) : rest.substring(2, slash);
    }

    /** The same server and credentials, another database on it. */
    public ConnectionSettings withDatabase(String database) {
        int slash = url.indexOf('/', "jdbc:postgresql://".length());
        int query = url.indexOf('?');
        String base = slash < 0 ? url : url.substring(0, slash);
        String params = query < 0 ? "" : url.substring(query);
        return new ConnectionSettings(base + "/" + database + params, user, password, explicit);
    }

    /**
     * The loader's own session settings, applied to every connection it opens, so that the database's defaults
     * (ALTER DATABASE ... SET) do not decide for it: no statement, lock, idle-in-transaction or idle-session timeout
     * of the database's cuts a batch or the check of a run short (a batch's wait for a position is bounded on its own,
     * BatchLoader.LOCK_TIMEOUT), and the search path is the loader's. What the loader's role itself sets (ALTER ROLE
     * ... SET, for every database or this one) is honoured: a DBA's deliberate cap for that role, except the search
     * path, which the loader always pins.
     */
    static final String SESSION_SETTINGS = "select pg_catalog.set_config(s.name, s.value, false)"
            + " from (values ('search_path', 'public', true), ('statement_timeout', '0', false),"
            + " ('lock_timeout', '0', false), ('idle_in_transaction_session_timeout', '0', false),"
            + " ('idle_session_timeout', '0', false)) as s(name, value, pinned)"
            + " where s.pinned or not exists (select 1 from pg_catalog.pg_db_role_setting d,"
            + " pg_catalog.unnest(d.setconfig) as c(setting)"
            + " where d.setrole = (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)"
            + " and d.setdatabase in (0, (select b.oid from pg_catalog.pg_database b where b.datname = pg_catalog.current_database()))"
            + " and pg_catalog.split_part(c.setting, '=', 1) = s.name)";

    /** The same settings as connection options, for connections the loader does not open itself (Flyway's). */
    public static final String SESSION_OPTIONS = "-c statement_timeout=0 -c lock_timeout=0"
            + " -c idle_in_transaction_session_timeout=0 -c idle_session_timeout=0";

    /** Opens a connection in autocommit mode, with the loader's session settings, or explains in one line why not. */
    public Connection open() {
        Connection connection = connect();
        try (java.sql.Statement settings = connection.createStatement()) {
            settings.execute(SESSION_SETTINGS);
        } catch (SQLException e) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // the first failure is the one to tell
            }
            throw new UserError("Cannot set up a session at " + maskedUrl() + " as " + user + ": "
                    + Printable.firstLine(e.getMessage()).replaceAll("\\.$", ""), e);
        }
        return connection;
    }

    private Connection connect() {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        if (password != null) {
            properties.setProperty("password", password);
        }
        properties.setProperty("ApplicationName", "incremental-loader");
        properties.setProperty("connectTimeout", "10");
        try {
            return DriverManager.getConnection(url, properties);
        } catch (SQLException e) {
            throw new UserError("Cannot connect to " + maskedUrl() + " as " + user + ": "
                    + Printable.firstLine(e.getMessage()).replaceAll("\\.$", "")
                    + ". Check --url/--user/--password or LOADER_DB_URL/LOADER_DB_USER/LOADER_DB_PASSWORD.", e);
        }
    }

    /** The URL without credentials, for logs and summaries. */
    @Override
    public String toString() {
        return maskedUrl() + " as " + user;
    }

    /** The URL with the value of any password parameter (?password=..., &sslpassword=...) replaced by ***. */
    public String maskedUrl() {
        return masked(url);
    }

    private static String masked(String url) {
        return url.replaceAll("(?i)([?&][a-z]*password=)[^&]*", "$1***");
    }

    @SafeVarargs
    private static <T> T firstOf(T... values) {
        for (T value : values) {
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    private static String orElse(String value, String fallback) {
        return value == null || value.isEmpty() ? fallback : value;
    }
}
