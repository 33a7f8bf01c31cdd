package io.incrementalloader.db;

import io.incrementalloader.generated.public_.tables.FakeJsonRequest;
import io.incrementalloader.generated.public_.tables.StageJsonWithDate;
import io.incrementalloader.generated.test_mv.tables.Addresses;
import io.incrementalloader.generated.test_mv.tables.Clients;
import io.incrementalloader.generated.test_mv.tables.LoadBatches;
import io.incrementalloader.generated.test_mv.tables.LoadDuplicates;
import io.incrementalloader.generated.test_mv.tables.LoadErrors;
import io.incrementalloader.generated.test_mv.tables.LoadMetadata;
import io.incrementalloader.generated.test_mv.tables.Phones;
import io.incrementalloader.generated.test_mv.tables.Products;
import java.util.Map;
import org.jooq.DSLContext;
import org.jooq.QueryPart;
import org.jooq.Table;
import org.jooq.VisitContext;
import org.jooq.VisitListener;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;
import org.jooq.impl.DefaultVisitListenerProvider;

/**
 * Queries written for one server, read one lane at a time on Citus. Every table the loader distributes by lane is
 * declared, wherever a query names it, as that lane's rows (a derived table filtered by {@code lane = n}, under the
 * name or alias it had), so that Citus sends the whole query to the worker holding the lane, where its joins (on
 * client_id, on document keys, correlated subqueries) run as they do on one server. Without it, Citus refuses them:
 * "complex joins are only supported when all distributed tables are co-located and joined on their distribution
 * columns". The tables that are not distributed (local to the coordinator, or reference tables) are left as they are.
 *
 * <p>A derived table cannot carry a schema in its name, so the queries render names without their schema: the
 * session's search_path must hold the loader's schemas ({@link #SEARCH_PATH}).
 */
public final class OneLane implements VisitListener {
    /** What a session reading lanes sets, so that unqualified names find the loader's objects (and pg_catalog's first). */
    public static final String SEARCH_PATH = "set local search_path = pg_catalog, test_mv, public, pg_temp";

    /** The lanes: test_mv.document_lane's values, 0 to 15. */
    public static final int LANES = 16;

    private static final String LANDED = "test_mv.landed_documents";
    private static final Map<Class<?>, String> LANE_ROWS = Map.of(
            Clients.class, "select * from test_mv.clients where lane = %d",
            Phones.class, "select * from test_mv.phones where lane = %d",
            Addresses.class, "select * from test_mv.addresses where lane = %d",
            Products.class, "select * from test_mv.products where lane = %d",
            LoadErrors.class, "select * from test_mv.load_errors where lane = %d",
            LoadDuplicates.class, "select * from test_mv.load_duplicates where lane = %d",
            // The positions, one a node that landed rows of the lane (lane_positions), under the position table's name:
            // a document is taken when it is at or before its node's.
            LoadMetadata.class, "select p.lane, p.node, p.last_xid, p.last_request_id from test_mv.lane_positions p"
                    + " where p.lane = %d",
            LoadBatches.class, "select * from test_mv.load_batches where lane = %d",
            FakeJsonRequest.class, "select * from public.fake_json_request where lane = %d",
            // The stage view, as R__stage_json_with_date defines it, on the lane's landed rows (the view has no lane).
            StageJsonWithDate.class, "select d.id, d.stage, test_mv.document_md5(d.stage) as hash,"
                    + " test_mv.first_address_date(d.stage) as date, d.landed_at, d.landed_xid,"
                    + " test_mv.document_md5(d.stage) as json_data_hash, d.stage as json_data"
                    + " from " + LANDED + " d where d.lane = %d");

    private final int lane;

    private OneLane(int lane) {
        this.lane = lane;
    }

    /** The same context, reading only the given lane of every distributed table. */
    public static DSLContext of(DSLContext sql, int lane) {
        Settings settings = sql.settings() == null ? new Settings() : (Settings) sql.settings().clone();
        org.jooq.Configuration configuration = sql.configuration().derive(settings.withRenderSchema(false))
                .derive(new DefaultVisitListenerProvider(new OneLane(lane)));
        configuration.data(OneLane.class, lane);
        return DSL.using(configuration);
    }

    /** Whether the context reads one lane of a Citus cluster ({@link #of}). */
    public static boolean reads(DSLContext sql) {
        return sql.configuration().data(OneLane.class) != null;
    }

    /**
     * A column the Citus layout adds (landed_node, node), of a table or alias as the query names it; null on one
     * server, where it does not exist.
     */
    public static org.jooq.Field<Integer> column(DSLContext sql, Table<?> table, String column) {
        return reads(sql) ? DSL.field(DSL.name(table.getName(), column), Integer.class) : null;
    }

    /** The same context once for each lane, in lane order. */
    public static java.util.List<DSLContext> all(DSLContext sql) {
        java.util.List<DSLContext> lanes = new java.util.ArrayList<>();
        for (int lane = 0; lane < LANES; lane++) {
            lanes.add(of(sql, lane));
        }
        return lanes;
    }

    @Override
    public void visitStart(VisitContext context) {
        QueryPart part = context.queryPart();
        if (context.renderContext() == null || !context.renderContext().declareTables() || !(part instanceof Table<?> table)) {
            return;
        }
        String rows = LANE_ROWS.get(part.getClass());
        if (rows != null) {
            context.queryPart(DSL.table("(" + String.format(rows, lane) + ")").as(DSL.name(table.getName())));
        }
    }

    @Override
    public void visitEnd(VisitContext context) {
    }

    @Override
    public void clauseStart(VisitContext context) {
    }

    @Override
    public void clauseEnd(VisitContext context) {
    }
}
