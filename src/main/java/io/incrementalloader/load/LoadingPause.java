package io.incrementalloader.load;

import static io.incrementalloader.generated.test_mv.Tables.LOAD_CONTROL;

import io.incrementalloader.Printable;
import java.sql.Connection;
import java.time.OffsetDateTime;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * A pause of loading (pause_loading): since when, by whom, why. While there is one, load_next_batch takes nothing;
 * the service and load read it first, to say so instead of reporting an empty run.
 */
public record LoadingPause(OffsetDateTime pausedAt, String pausedBy, String reason) {
    /** The pause in force, or null when loading is not paused. */
    public static LoadingPause current(DSLContext sql) {
        return sql.selectFrom(LOAD_CONTROL).where(LOAD_CONTROL.PAUSED_AT.isNotNull())
                .fetchOne(c -> new LoadingPause(c.getPausedAt(), c.getPausedBy(), c.getReason()));
    }

    public static LoadingPause current(Connection connection) {
        return current(DSL.using(connection, SQLDialect.POSTGRES));
    }

    /** One line for people: "loading is paused since ... by ...: ...". */
    public String describe() {
        return "loading is paused since " + pausedAt.withNano(0) + " by " + Printable.of(pausedBy) + ": "
                + Printable.of(reason);
    }
}
