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
import static org.jooq.impl.DSL.noCondition;
import static org.jooq.impl.DSL.notExists;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.selectOne;

import java.util.List;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record4;
import org.jooq.Record8;

/**
 * What a reconciliation covers: the whole database ({@code verify}), or what a run did (the check after every run):
 * the documents its batches took and the rows they wrote, and the documents whose rows were changed by hand since
 * the last check (test_mv.changed_documents, up to a change id).
 *
 * <p>A run's batches are found by key, from what they recorded in the run history: the documents between the
 * position before the first batch and the position after the last (batch ids are given under the position's lock,
 * so the batches between two ids took one stretch of positions), and the child rows in the ranges of ids the batches
 * gave them. Every condition is an index range scan, so checking a run costs what the run wrote, not what the tables
 * hold. Documents changed by hand are few and rare; their child rows are found by client_id, which no index serves:
 * such a check reads the child tables whole.
 */
public final class Scope {
    private static final Scope EVERYTHING = new Scope(null, null, 0, false);

    /** A half-open range of ids [lower, upper). */
    private record Ids(long lower, long upper) {
    }

    /**
     * What a run's batches took and wrote. {@code others}: the batches between first and last that are not the
     * run's loads (a reprocessing, a reload or a rejection by hand, by another caller meanwhile): their documents
     * are not in the run's stretch of positions, and the documents changed by hand take them in instead.
     */
    private record Batches(long first, long last, String fromXid, long fromRequestId, String toXid, long toRequestId,
                           Ids requests, Ids phones, Ids addresses, Ids products, List<Long> others) {
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
        Record4<Object, Long, Object, Long> span = sql.select(first.FROM_XID, first.FROM_REQUEST_ID, last.TO_XID,
                        last.TO_REQUEST_ID)
                .from(first).crossJoin(last)
                .where(first.BATCH_ID.eq(firstBatchId)).and(last.BATCH_ID.eq(lastBatchId)).fetchOne();
        if (span == null || span.value1() == null || span.value3() == null) {
            throw new IllegalStateException("batches " + firstBatchId + " to " + lastBatchId
                    + " have no recorded positions in test_mv.load_batches");
        }
        Record8<Long, Long, Long, Long, Long, Long, Long, Long> ids = sql.select(
                        min(LOAD_BATCHES.FIRST_REQUEST_ID), max(LOAD_BATCHES.LAST_REQUEST_ID).plus(1),
                        lower(LOAD_BATCHES.PHONE_IDS), upper(LOAD_BATCHES.PHONE_IDS),
                        lower(LOAD_BATCHES.ADDRESS_IDS), upper(LOAD_BATCHES.ADDRESS_IDS),
                        lower(LOAD_BATCHES.PRODUCT_IDS), upper(LOAD_BATCHES.PRODUCT_IDS))
                .from(LOAD_BATCHES).where(LOAD_BATCHES.BATCH_ID.between(firstBatchId, lastBatchId))
                .and(LOAD_BATCHES.KIND.eq("load")).fetchSingle();
        List<Long> others = sql.select(LOAD_BATCHES.BATCH_ID).from(LOAD_BATCHES)
                .where(LOAD_BATCHES.BATCH_ID.between(firstBatchId, lastBatchId)).and(LOAD_BATCHES.KIND.ne("load"))
                .fetch(LOAD_BATCHES.BATCH_ID);
        return new Batches(firstBatchId, lastBatchId, String.valueOf(span.value1()), span.value2(),
                String.valueOf(span.value3()), span.value4(), ids(ids.value1(), ids.value2()),
                ids(ids.value3(), ids.value4()), ids(ids.value5(), ids.value6()), ids(ids.value7(), ids.value8()),
                others);
    }

    public boolean isEverything() {
        return everything;
    }

    /** Landed documents in scope, given a landing row's (or the stage's) landed_xid and id. */
    Condition documents(Field<Object> landedXid, Field<Long> id) {
        if (everything) {
            return noCondition();
        }
        Condition taken = batches == null ? falseCondition()
                : condition("({0}, {1}) > ({2}::xid8, {3}) and ({0}, {1}) <= ({4}::xid8, {5})", landedXid, id,
                        inline(batches.fromXid()), inline(batches.fromRequestId()), inline(batches.toXid()),
                        inline(batches.toRequestId()));
        return taken.or(changed(id));
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

    /** A batch of the run: between its first and last, and one of its loads. */
    private Condition ofTheRun(Field<Long> batchId) {
        Condition between = batchId.between(batches.first(), batches.last());
        return batches.others().isEmpty() ? between : between.and(batchId.notIn(batches.others()));
    }

    /** Documents changed by hand up to the scope's change id; no condition at all when there are none. */
    private Condition changed(Field<Long> id) {
        return lastChangeId == 0 ? falseCondition() : id.in(select(CHANGED_DOCUMENTS.CLIENT_ID).from(CHANGED_DOCUMENTS)
                .where(CHANGED_DOCUMENTS.CHANGE_ID.le(lastChangeId)));
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
