package io.incrementalloader.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.incrementalloader.UserError;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The contract's order: options, then LOADER_DB_*, then PostgreSQL's PG* variables, then localhost. */
class ConnectionSettingsTest {
    private static final Map<String, String> EVERYTHING = Map.of(
            "LOADER_DB_URL", "jdbc:postgresql://loader-host/loader", "LOADER_DB_USER", "loader", "LOADER_DB_PASSWORD", "lp",
            "PGHOST", "pg-host", "PGPORT", "6543", "PGDATABASE", "pgdb", "PGUSER", "pguser", "PGPASSWORD", "pp");

    @Test
    void options_win_over_every_variable() {
        ConnectionSettings settings = ConnectionSettings.resolve("jdbc:postgresql://opt/db", "optuser", "op", EVERYTHING);
        assertEquals(new ConnectionSettings("jdbc:postgresql://opt/db", "optuser", "op", true), settings);
    }

    @Test
    void loader_variables_win_over_postgres_variables() {
        assertEquals(new ConnectionSettings("jdbc:postgresql://loader-host/loader", "loader", "lp", true),
                ConnectionSettings.resolve(null, null, null, EVERYTHING));
    }

    @Test
    void postgres_variables_are_used_when_the_loader_ones_are_absent() {
        Map<String, String> pg = Map.of("PGHOST", "pg-host", "PGPORT", "6543", "PGDATABASE", "pgdb", "PGUSER", "pguser",
                "PGPASSWORD", "pp");
        assertEquals(new ConnectionSettings("jdbc:postgresql://pg-host:6543/pgdb", "pguser", "pp", true),
                ConnectionSettings.resolve(null, null, null, pg));
    }

    @Test
    void with_nothing_set_it_is_localhost_and_postgres() {
        ConnectionSettings settings = ConnectionSettings.resolve(null, null, null, Map.of());
        assertEquals("jdbc:postgresql://localhost:5432/postgres", settings.url());
        assertEquals("postgres", settings.user());
        assertFalse(settings.explicit());
    }

    @Test
    void another_database_on_the_same_server_keeps_the_url_parameters() {
        ConnectionSettings settings = new ConnectionSettings("jdbc:postgresql://h:1/a?ssl=false", "u", null, true);
        assertEquals("jdbc:postgresql://h:1/b?ssl=false", settings.withDatabase("b").url());
    }

    @Test
    void a_url_that_is_not_postgresql_is_a_user_error() {
        assertThrows(UserError.class, () -> ConnectionSettings.resolve("mysql://x", null, null, Map.of()));
    }

    @Test
    void a_password_in_the_url_is_masked_in_logs_and_in_connection_errors() {
        ConnectionSettings settings = new ConnectionSettings(
                "jdbc:postgresql://127.0.0.1:1/db?user=x&password=s3cret&sslpassword=k3y&ssl=false", "x", null, true);
        assertEquals("jdbc:postgresql://127.0.0.1:1/db?sslpassword=***&ssl=false as x", settings.toString());
        UserError refused = assertThrows(UserError.class, settings::open);
        assertFalse(refused.getMessage().contains("s3cret") || refused.getMessage().contains("k3y"), refused.getMessage());
    }

    @Test
    void a_user_in_the_url_never_overrides_the_user_option_and_the_role_named_is_the_role_used() {
        ConnectionSettings settings = ConnectionSettings.resolve("jdbc:postgresql://h:1/db?user=postgres&ssl=false",
                "il_reader", null, Map.of());
        assertEquals("il_reader", settings.user());
        assertEquals("jdbc:postgresql://h:1/db?ssl=false", settings.url());
        assertEquals("jdbc:postgresql://h:1/db?ssl=false as il_reader", settings.toString());
    }

    @Test
    void a_user_and_password_in_the_url_count_above_the_variables() {
        ConnectionSettings settings = ConnectionSettings.resolve("jdbc:postgresql://h:1/db?password=p%26w&user=u1",
                null, null, EVERYTHING);
        assertEquals(new ConnectionSettings("jdbc:postgresql://h:1/db", "u1", "p&w", true), settings);
    }
}
