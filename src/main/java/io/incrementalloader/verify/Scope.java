package io.incrementalloader.verify;

import static io.incrementalloader.generated.public_.Tables.FAKE_JSON_REQUEST;
import static io.incrementalloader.generated.test_mv.Tables.CHANGED_DOCUMENTS;
import static io.incrementalloader.generated.test_mv.Tables.CLIENTS;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_BATCHES;
import static io.incrementalloader.generated.test_mv.Tables.PRUNED_RANGES;
import static org.jooq.impl.DSL.condition;
import static org.jooq.impl.DSL.exists;
import static org.jooq.impl.DSL.falseCondition;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.max;
import static org.jooq.impl.DSL.min;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.noCondition;
import static org.jooq.impl.DSL.notExists;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.selectOne;

import io.incrementalloader.db.OneLane;
import io.incrementalloader.generated.test_mv.Routines;
import java.util.List;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record1;
import org.jooq.Record8;
import org.jooq.Select;

/**
 * What a reconciliation covers: the whole database ({@code verify}), or what a run did (the check after every run):
 * the documents its batches took and the rows they wrote, and the documents whose rows were changed by hand since
 * the last check (test_mv.changed_documents, up to a change id).
 *
 * <p>A run's batches are found by key, from what they recorded in the run history: in each lane they took, the
 * documents of the lane between the position before the lane's first batch of the run and the position after its
 * last (batch ids are given under the lane's lock, so a lane's batches between two ids took one stretch of its
 * positions, whoever called them), and the child rows in the ranges of ids the batches gave them. Every condition is
 * an index range scan, so checking a run costs what the run wrote, not what the tables hold. Documents changed by
 * hand are few and rare; their child rows are found by client_id, which no index serves: such a check reads the
 * child tables whole.
 */
public final class Scope {
    private static final Scope EVERYTHING = new Scope(null, null, 0, false);

    /** A half-open range of ids [lower, upper). */
    private record Ids(long lower, long upper) {
    }

    /**
     * A lane's stretch of a run: its batches first to last, and the positions before the first and after the last.
     * Lane null: batches loaded before lanes (V011), which took the documents of every lane.
     */
    private record LaneSpan(Integer lane, Integer node, long first, long last, String fromXid, long fromRequestId,
                            String toXid, long toRequestId) {
    }

    /**
     * What a run's batches took and wrote: the stretch of each lane, and the ranges of ids. Batches between first
     * and last that are not the lanes' loads (a reprocessing, a reload or a rejection by hand, by another caller
     * meanwhile) are not the run's: the documents changed by hand take their documents in instead.
     */
    private record Batches(long first, long last, List<LaneSpan> lanes, Ids requests, Ids phones, Ids addresses,
                           Ids products) {
    }

    private final boolean everything;
    private final Batches batches;
    private final long lastChangeId;
    private final boolean pruned;

    private Scope(Batches batches, Boolean everything, long lastChangeId, boolean pruned) {
        this.batches = batches;
        this.everything = everything == null;
        this.lastChangeId = lastChangeId;
        this.pruned = pruned;
    }

    /**
     * The same scope without the documents whose landing rows were pruned (prune_landing): with no document left to
     * derive their rows from, their rows and outcomes cannot be checked, and are left out rather than reported as
     * differences. Only when the database has pruned anything, so that a database that never did pays nothing.
     */
    Scope withoutPruned(DSLContext sql) {
        boolean any = sql.fetchExists(PRUNED_RANGES);
        return any == pruned ? this : new Scope(batches, everything ? null : false, lastChangeId, any);
    }

    /**
     * Whether the document id is checkable: its landing row is there, or no pruning batch removed ids around it (a
     * landing row deleted by hand stays a difference).
     */
    static Condition checkable(Field<Long> id) {
        return exists(selectOne().from(FAKE_JSON_REQUEST).where(FAKE_JSON_REQUEST.ID.eq(id)))
                .or(notExists(selectOne().from(PRUNED_RANGES).where(id.between(PRUNED_RANGES.FROM_ID, PRUNED_RANGES.TO_ID))));
    }

    private Condition checkableIf(Field<Long> id) {
        return pruned ? checkable(id) : noCondition();
    }

    public static Scope everything() {
        return EVERYTHING;
    }

    /**
     * The batches {@code firstBatchId} to {@code lastBatchId} of the run history (none when {@code firstBatchId} is
     * 0), and the documents changed by hand up to {@code lastChangeId} (none when 0), read in the caller's snapshot.
     * Throws when the first or the last batch has no positions recorded (batches loaded before version 7).
     */
    static Scope ofRun(DSLContext sql, long firstBatchId, long lastBatchId, long lastChangeId) {
        return new Scope(firstBatchId == 0 ? null : batches(sql, firstBatchId, lastBatchId), false, lastChangeId, false);
    }

    private static Batches batches(DSLContext sql, long firstBatchId, long lastBatchId) {
        var first = LOAD_BATCHES.as("first");
        var last = LOAD_BATCHES.as("last");
        // On Citus a lane's documents are taken node by node (a lane whose shard moved), each node's in its own order:
        // a stretch is a lane's and a node's.
        Field<Integer> node = OneLane.column(sql, LOAD_BATCHES, "node");
        var lanes = select(LOAD_BATCHES.LANE, node == null ? inline((Integer) null).as("node") : node.as("node"),
                        min(LOAD_BATCHES.BATCH_ID).as("first_id"), max(LOAD_BATCHES.BATCH_ID).as("last_id"))
                .from(LOAD_BATCHES).where(LOAD_BATCHES.BATCH_ID.between(firstBatchId, lastBatchId))
                .and(LOAD_BATCHES.KIND.eq("load"))
                .groupBy(node == null ? List.of(LOAD_BATCHES.LANE) : List.of(LOAD_BATCHES.LANE, node)).asTable("lanes");
        List<LaneSpan> spans = sql.select(lanes.field(LOAD_BATCHES.LANE), lanes.field("node", Integer.class),
                        first.BATCH_ID, last.BATCH_ID, first.FROM_XID, first.FROM_REQUEST_ID, last.TO_XID,
                        last.TO_REQUEST_ID)
                .from(lanes)
                .join(first).on(first.BATCH_ID.eq(lanes.field("first_id", Long.class)))
                .join(last).on(last.BATCH_ID.eq(lanes.field("last_id", Long.class)))
                .fetch(r -> {
                    if (r.value5() == null || r.value7() == null) {
                        throw new IllegalStateException("batches " + firstBatchId + " to " + lastBatchId
                                + " have no recorded positions in test_mv.load_batches");
                    }
                    return new LaneSpan(r.value1(), r.value2(), r.value3(), r.value4(), String.valueOf(r.value5()),
                            r.value6(), String.valueOf(r.value7()), r.value8());
                });
        Record8<Long, Long, Long, Long, Long, Long, Long, Long> ids = sql.select(
                        min(LOAD_BATCHES.FIRST_REQUEST_ID), max(LOAD_BATCHES.LAST_REQUEST_ID).plus(1),
                        lower(LOAD_BATCHES.PHONE_IDS), upper(LOAD_BATCHES.PHONE_IDS),
                        lower(LOAD_BATCHES.ADDRESS_IDS), upper(LOAD_BATCHES.ADDRESS_IDS),
                        lower(LOAD_BATCHES.PRODUCT_IDS), upper(LOAD_BATCHES.PRODUCT_IDS))
                .from(LOAD_BATCHES).where(LOAD_BATCHES.BATCH_ID.between(firstBatchId, lastBatchId))
                .and(LOAD_BATCHES.KIND.eq("load")).fetchSingle();
        return new Batches(firstBatchId, lastBatchId, spans, ids(ids.value1(), ids.value2()),
                ids(ids.value3(), ids.value4()), ids(ids.value5(), ids.value6()), ids(ids.value7(), ids.value8()));
    }

    public boolean isEverything() {
        return everything;
    }

    /**
     * Landed documents in scope, given a landing row's (or the stage's) id: in each lane the run took, the lane's
     * stretch, read through the lane index (a range scan a lane).
     */
    Condition documents(Field<Long> id) {
        if (everything) {
            return noCondition();
        }
        var r = FAKE_JSON_REQUEST.as("in_scope");
        Select<Record1<Long>> taken = null;
        for (LaneSpan span : batches == null ? List.<LaneSpan>of() : batches.lanes()) {
            Condition stretch = condition("({0}, {1}) > ({2}::xid8, {3}) and ({0}, {1}) <= ({4}::xid8, {5})",
                    r.LANDED_XID, r.ID, inline(span.fromXid()), inline(span.fromRequestId()), inline(span.toXid()),
                    inline(span.toRequestId()));
            // Lane null: batches loaded before lanes took every lane's documents (no index serves their stretch).
            if (span.node() != null) {
                stretch = stretch.and(field(name(r.getName(), "landed_node"), Integer.class).eq(inline(span.node())));
            }
            Select<Record1<Long>> lane = select(r.ID).from(r).where(span.lane() == null ? stretch
                    : Routines.documentLane(r.DOCUMENT_KEY).eq(inline(span.lane())).and(stretch));
            taken = taken == null ? lane : taken.unionAll(lane);
        }
        return (taken == null ? falseCondition() : id.in(taken)).or(changed(id));
    }

    /**
     * Rows keyed by a document's id (clients, load_errors, load_duplicates) in scope: written by the run's batches
     * (the range of their document ids bounds the scan, their batch ids pick the rows), or of a changed document.
     */
    Condition outcomes(Field<Long> requestId, Field<Long> batchId) {
        return taken(requestId, batchId).and(checkableIf(requestId));
    }

    private Condition taken(Field<Long> requestId, Field<Long> batchId) {
        if (everything) {
            return noCondition();
        }
        Condition written = batches == null ? falseCondition()
                : inRange(batches.requests(), requestId).and(ofTheRun(batchId));
        return written.or(changed(requestId));
    }

    Condition phones(Field<Long> phoneId, Field<Long> clientId) {
        return rows(batches == null ? null : batches.phones(), phoneId, clientId);
    }

    Condition addresses(Field<Long> addressId, Field<Long> clientId) {
        return rows(batches == null ? null : batches.addresses(), addressId, clientId);
    }

    Condition products(Field<Long> productId, Field<Long> clientId) {
        return rows(batches == null ? null : batches.products(), productId, clientId);
    }

    /**
     * Child rows in scope: in the range of ids the run's batches gave, and of a document they took (another
     * session's batch may have given ids inside the range meanwhile); or of a changed document.
     */
    private Condition rows(Ids ids, Field<Long> id, Field<Long> clientId) {
        return written(ids, id, clientId).and(checkableIf(clientId));
    }

    private Condition written(Ids ids, Field<Long> id, Field<Long> clientId) {
        if (everything) {
            return noCondition();
        }
        Condition written = ids == null ? falseCondition() : inRange(ids, id).and(clientId.in(
                select(CLIENTS.CLIENT_ID).from(CLIENTS).where(inRange(batches.requests(), CLIENTS.CLIENT_ID))
                        .and(ofTheRun(CLIENTS.BATCH_ID))));
        return written.or(changed(clientId));
    }

    /** A batch of the run: a load between its first and last, and of a lane's stretch. */
    private Condition ofTheRun(Field<Long> batchId) {
        var b = LOAD_BATCHES.as("run_batch");
        Condition ofALane = falseCondition();
        for (LaneSpan span : batches.lanes()) {
            Condition itsNode = span.node() == null ? noCondition()
                    : field(name(b.getName(), "node"), Integer.class).eq(inline(span.node()));
            ofALane = ofALane.or((span.lane() == null ? b.LANE.isNull() : b.LANE.eq(inline(span.lane())))
                    .and(itsNode).and(b.BATCH_ID.between(inline(span.first()), inline(span.last()))));
        }
        return batchId.between(batches.first(), batches.last()).and(exists(selectOne().from(b)
                .where(b.BATCH_ID.eq(batchId)).and(b.KIND.eq("load")).and(ofALane)));
    }

    /** Documents changed by hand up to the scope's change id; no condition at all when there are none. */
    private Condition changed(Field<Long> id) {
        return lastChangeId == 0 ? falseCondition() : id.in(select(CHANGED_DOCUMENTS.CLIENT_ID).from(CHANGED_DOCUMENTS)
                .where(CHANGED_DOCUMENTS.CHANGE_ID.le(lastChangeId)).and(CHANGED_DOCUMENTS.CHECKED_BY.isNull()));
    }

    private static Condition inRange(Ids ids, Field<Long> id) {
        return ids == null ? falseCondition() : id.ge(ids.lower()).and(id.lt(ids.upper()));
    }

    private static Ids ids(Long lower, Long upper) {
        return lower == null ? null : new Ids(lower, upper);
    }

    private static Field<Long> lower(Field<Object> range) {
        return min(field("lower({0})", Long.class, range));
    }

    private static Field<Long> upper(Field<Object> range) {
        return max(field("upper({0})", Long.class, range));
    }
}
