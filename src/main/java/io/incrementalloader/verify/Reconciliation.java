package io.incrementalloader.verify;

import static io.incrementalloader.generated.public_.Tables.FAKE_JSON_REQUEST;
import static io.incrementalloader.generated.public_.Tables.STAGE_JSON_WITH_DATE;
import static io.incrementalloader.generated.test_mv.Tables.ADDRESSES;
import static io.incrementalloader.generated.test_mv.Tables.CHANGED_DOCUMENTS;
import static io.incrementalloader.generated.test_mv.Tables.CLIENTS;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_DUPLICATES;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_ERRORS;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_METADATA;
import static io.incrementalloader.generated.test_mv.Tables.PHONES;
import static io.incrementalloader.generated.test_mv.Tables.PRODUCTS;
import static io.incrementalloader.generated.test_mv.Tables.PRUNED_DOCUMENTS;
import static io.incrementalloader.generated.test_mv.Tables.PRUNED_RANGES;
import static org.jooq.impl.DSL.coalesce;
import static org.jooq.impl.DSL.condition;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.countDistinct;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.max;
import static org.jooq.impl.DSL.min;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.not;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.sum;
import static org.jooq.impl.DSL.table;

import io.incrementalloader.Printable;
import io.incrementalloader.db.CitusLayout;
import io.incrementalloader.db.OneLane;
import io.incrementalloader.db.Snapshot;
import io.incrementalloader.generated.test_mv.Routines;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.JSONB;
import org.jooq.Record;
import org.jooq.Record2;
import org.jooq.Record3;
import org.jooq.Select;
import org.jooq.Table;
import org.jooq.impl.DSL;

/**
 * Checks that the four tables hold exactly what the loaded documents say, and that every landed document is
 * accounted for. The expected rows are derived again from the stage, in SQL written apart from load_batch's, and
 * compared with the tables (read through jOOQ's generated classes) with EXCEPT ALL both ways, so that the work
 * stays in the database: a million documents take seconds, not a million round trips.
 */
public final class Reconciliation {
    private static final int SHOWN = 3;

    /**
     * One table's verdict: rows the mapping expects but the table lacks, and rows the table has but should not. Its
     * text is printable (the examples quote documents' values).
     */
    public record Difference(String table, long missing, long unexpected, List<String> examples) {
        @Override
        public String toString() {
            return table + ": " + missing + " expected row(s) missing, " + unexpected + " unexpected row(s)"
                    + (examples.isEmpty() ? "" : "; first: " + Printable.of(String.join("; ", examples)));
        }
    }

    private final DSLContext sql;
    private final Scope scope;

    private Reconciliation(DSLContext sql, Scope scope) {
        this.sql = sql;
        this.scope = scope.withoutPruned(sql);
    }

    /**
     * How many documents verify cannot check because prune_landing removed their landing rows: loaded, rejected or
     * duplicates whose landing row is gone, within the ranges pruning removed.
     */
    public static long notCheckable(Connection connection) throws SQLException {
        boolean citus = CitusLayout.isLaidOut(connection);
        return Snapshot.read(connection, sql -> {
            if (!sql.fetchExists(PRUNED_RANGES)) {
                return 0L;
            }
            long count = 0;
            for (DSLContext lane : citus ? OneLane.all(sql) : List.of(sql)) {
                Table<?> outcomes = select(CLIENTS.CLIENT_ID.as("id")).from(CLIENTS)
                        .unionAll(select(LOAD_ERRORS.REQUEST_ID).from(LOAD_ERRORS))
                        .unionAll(select(LOAD_DUPLICATES.REQUEST_ID).from(LOAD_DUPLICATES)).asTable("o");
                count += lane.fetchCount(lane.selectFrom(outcomes)
                        .where(not(Scope.checkable(outcomes.field("id", Long.class)))));
            }
            return count;
        }, settings(citus));
    }

    /**
     * Every difference found; an empty list means the load is sound. All checks read one snapshot (a read-only
     * repeatable-read transaction, {@link Snapshot}), so a load running meanwhile cannot show up as a difference.
     * Each table's check sorts millions of rows at scale: it gets the memory to sort them in memory, and no JIT (the
     * planner's estimates for the set-returning functions are so far off that it would compile for nothing).
     */
    public static List<Difference> check(Connection connection) throws SQLException {
        boolean citus = CitusLayout.isLaidOut(connection);
        return Snapshot.read(connection, sql -> byLane(sql, citus, lane -> new Reconciliation(lane, Scope.everything()).check()),
                settings(citus, "set local work_mem = '128MB'", "set local jit = off"));
    }

    /** What reads a lane (or, on one server, everything). */
    private interface LaneCheck {
        List<Difference> check(DSLContext sql) throws SQLException;
    }

    /**
     * The check on one server; on Citus, the same check a lane at a time ({@link OneLane}: each lane's queries run on
     * the worker that holds it), the lanes' differences added up. The lanes are read in one transaction, each
     * worker's in one snapshot of that worker (Citus has no snapshot across nodes, and needs none here: every
     * guarantee checked is a lane's).
     */
    private static List<Difference> byLane(DSLContext sql, boolean citus, LaneCheck check) throws SQLException {
        if (!citus) {
            return check.check(sql);
        }
        List<Difference> all = new ArrayList<>();
        for (DSLContext lane : OneLane.all(sql)) {
            for (Difference found : check.check(lane)) {
                int same = -1;
                for (int i = 0; i < all.size(); i++) {
                    if (all.get(i).table().equals(found.table())) {
                        same = i;
                    }
                }
                if (same < 0) {
                    all.add(found);
                } else {
                    Difference before = all.get(same);
                    List<String> examples = new ArrayList<>(before.examples());
                    found.examples().stream().limit(Math.max(0, SHOWN - examples.size())).forEach(examples::add);
                    all.set(same, new Difference(before.table(), before.missing() + found.missing(),
                            before.unexpected() + found.unexpected(), examples));
                }
            }
        }
        return all;
    }

    private static String[] settings(boolean citus, String... settings) {
        if (!citus) {
            return settings;
        }
        String[] withPath = Arrays.copyOf(settings, settings.length + 1);
        withPath[settings.length] = OneLane.SEARCH_PATH;
        return withPath;
    }

    /** What a run's check found, and the documents changed by hand that it took in (up to lastChangeId). */
    public record RunFindings(List<Difference> differences, int changedDocuments, long lastChangeId, String snapshot) {
    }

    /**
     * The same checks, for what a run did ({@link Scope#ofRun}): the documents that the batches {@code firstBatchId}
     * to {@code lastBatchId} took (none when 0) and the rows they wrote, and the documents changed by hand since
     * the last check. Every table is read by key ranges, so its cost follows the run's size, not the tables'. The
     * rows are compared by fingerprint first ({@link #fingerprints}), and row by row only for a table whose
     * fingerprints differ, to say how. Every join joins ranges of rows, so hash joins are always right; nested
     * loops are forbidden, since the planner, which cannot foresee how many rows a range of batches holds (on a
     * table not yet analyzed it guesses one), would otherwise scan a range of phones once for each client. Parallel
     * workers would take longer to start than such a check takes.
     */
    public static RunFindings checkRun(Connection connection, long firstBatchId, long lastBatchId)
            throws SQLException {
        return checkRun(connection, firstBatchId, lastBatchId, true);
    }

    /** The batches' part of {@link #checkRun} alone, without the documents changed by hand. */
    static List<Difference> checkChunk(Connection connection, long firstBatchId, long lastBatchId)
            throws SQLException {
        return checkRun(connection, firstBatchId, lastBatchId, false).differences();
    }

    private static RunFindings checkRun(Connection connection, long firstBatchId, long lastBatchId,
                                        boolean withChanges) throws SQLException {
        boolean citus = CitusLayout.isLaidOut(connection);
        return Snapshot.read(connection, sql -> {
            // The snapshot all of this reads: record_run_check marks as checked only the changes it saw.
            String snapshot = sql.fetchValue(DSL.field("pg_catalog.pg_current_snapshot()::text", String.class));
            Record3<Long, Integer, Integer> changes = sql.select(coalesce(max(CHANGED_DOCUMENTS.CHANGE_ID), 0L),
                            countDistinct(CHANGED_DOCUMENTS.CLIENT_ID), count().filterWhere(CHANGED_DOCUMENTS.CLIENT_ID.isNull()))
                    .from(CHANGED_DOCUMENTS).where(DSL.val(withChanges)).and(CHANGED_DOCUMENTS.CHECKED_BY.isNull())
                    .fetchSingle();
            long lastChangeId = changes.value1();
            if (firstBatchId == 0 && lastChangeId == 0) {
                return new RunFindings(List.of(), 0, 0, snapshot);
            }
            List<Difference> differences = new ArrayList<>(byLane(sql, citus, lane -> new Reconciliation(lane,
                    Scope.ofRun(lane, firstBatchId, lastBatchId, lastChangeId)).check()));
            if (changes.value3() > 0) { // a TRUNCATE: its documents are unknown, only verify can tell
                sql.selectFrom(CHANGED_DOCUMENTS).where(CHANGED_DOCUMENTS.CLIENT_ID.isNull())
                        .and(CHANGED_DOCUMENTS.CHANGE_ID.le(lastChangeId)).and(CHANGED_DOCUMENTS.CHECKED_BY.isNull())
                        .forEach(t -> differences.add(new Difference(t.getTableName(), 0, 0, List.of("emptied by "
                                + "TRUNCATE at " + t.getChangedAt() + " by " + t.getChangedBy() + "; run verify"))));
            }
            return new RunFindings(differences, changes.value2(), lastChangeId, snapshot);
        }, settings(citus, "set local work_mem = '64MB'", "set local jit = off",
                "set local max_parallel_workers_per_gather = 0", "set local enable_nestloop = off"));
    }

    /** One table's comparison: what the mapping expects of the loaded documents given, and what the table holds. */
    private record TableCheck(String table, Function<Table<?>, Select<? extends Record>> expected,
                              Supplier<Select<? extends Record>> actual) {
    }

    private List<TableCheck> tables() {
        return List.of(
                new TableCheck("clients", this::expectedClients, () -> select(CLIENTS.CLIENT_ID,
                        CLIENTS.APPLICATION_ID, CLIENTS.DOCUMENT_KEY).from(CLIENTS)
                        .where(scope.outcomes(CLIENTS.CLIENT_ID, CLIENTS.BATCH_ID))),
                new TableCheck("phones", this::expectedPhones, () -> select(PHONES.CLIENT_ID,
                        PHONES.POSITION, PHONES.TYPE, PHONES.NUMBER).from(PHONES)
                        .where(scope.phones(PHONES.PHONE_ID, PHONES.CLIENT_ID))),
                new TableCheck("addresses", this::expectedAddresses, () -> select(ADDRESSES.CLIENT_ID,
                        ADDRESSES.POSITION, ADDRESSES.TYPE, ADDRESSES.DATE, ADDRESSES.CITY, ADDRESSES.STREET,
                        ADDRESSES.HOUSE, ADDRESSES.FLAT)
                        .from(ADDRESSES).where(scope.addresses(ADDRESSES.ADDRESS_ID, ADDRESSES.CLIENT_ID))),
                new TableCheck("products", this::expectedProducts, () -> select(PRODUCTS.CLIENT_ID,
                        PRODUCTS.PRODUCT_NAME, PRODUCTS.COUNT, PRODUCTS.COST, PRODUCTS.TOTAL_SUM).from(PRODUCTS)
                        .where(scope.products(PRODUCTS.PRODUCT_ID, PRODUCTS.CLIENT_ID))),
                new TableCheck("load_duplicates", loaded -> expectedDuplicates(), () -> select(
                        LOAD_DUPLICATES.REQUEST_ID, LOAD_DUPLICATES.DUPLICATE_OF).from(LOAD_DUPLICATES)
                        .where(scope.outcomes(LOAD_DUPLICATES.REQUEST_ID, LOAD_DUPLICATES.BATCH_ID))));
    }

    private List<Difference> check() {
        List<Difference> differences = new ArrayList<>();
        List<TableCheck> tables = tables();
        Fingerprints sums = scope.isEverything() ? null : fingerprints(tables);
        for (int i = 0; i < tables.size(); i++) {
            if (sums == null || !sums.same().get(i)) {
                compare(tables.get(i), differences);
            }
        }
        checkAccounting(differences);
        if (sums == null || sums.twins() > 0) {
            checkTwins(differences);
        }
        return differences;
    }

    /** For each table whether its fingerprints agree; and how many loaded documents have a loaded twin. */
    private record Fingerprints(List<Boolean> same, long twins) {
    }

    /** The loaded documents in scope, as a derived table of (id, stage, key): key is the client's document_key. */
    private Table<?> loadedDocuments() {
        return select(STAGE_JSON_WITH_DATE.ID.as("id"), STAGE_JSON_WITH_DATE.STAGE.as("stage"),
                CLIENTS.DOCUMENT_KEY.as("key"))
                .from(STAGE_JSON_WITH_DATE).join(CLIENTS).on(CLIENTS.CLIENT_ID.eq(STAGE_JSON_WITH_DATE.ID))
                .where(scope.documents(STAGE_JSON_WITH_DATE.ID))
                .and(scope.outcomes(CLIENTS.CLIENT_ID, CLIENTS.BATCH_ID))
                .asTable("loaded");
    }

    /**
     * Whether each table's rows have the fingerprint the mapping expects: how many rows, and the sum of a 64-bit
     * hash of each row's text. Two multisets with the same fingerprint are equal but for a hash collision (odds of
     * about 2^-64 for an accidental difference). All tables in one statement, with the count of twins: the loaded
     * documents are read once (a materialized CTE), and the rows stream through without the sort of the row-by-row
     * comparison.
     */
    private Fingerprints fingerprints(List<TableCheck> tables) {
        Table<?> documents = loadedDocuments();
        var loaded = name("loaded").fields("id", "stage", "key").asMaterialized(select(id(documents),
                stage(documents), documents.field("key", Long.class)).from(documents));
        Table<?> all = null;
        for (int i = 0; i < tables.size(); i++) {
            Table<?> both = fingerprint(tables.get(i).expected().apply(loaded), "e" + i)
                    .crossJoin(fingerprint(tables.get(i).actual().get(), "a" + i));
            all = all == null ? both : all.crossJoin(both);
        }
        all = all.crossJoin(select(count().as("twins")).from(twins(loaded)).asTable("t"));
        Record sums = sql.with(loaded).select().from(all).fetchSingle();
        List<Boolean> same = new ArrayList<>();
        for (int i = 0; i < tables.size(); i++) {
            same.add(sums.get("e" + i + "_rows").equals(sums.get("a" + i + "_rows"))
                    && sums.get("e" + i + "_hash").equals(sums.get("a" + i + "_hash")));
        }
        return new Fingerprints(same, sums.get("twins", Long.class));
    }

    private static Table<?> fingerprint(Select<? extends Record> rows, String alias) {
        String[] columns = new String[rows.getSelect().size()];
        Arrays.setAll(columns, i -> "c" + i);
        Table<?> t = rows.asTable(alias + "_rows_of", columns);
        String[] placeholders = new String[columns.length];
        Arrays.setAll(placeholders, i -> "{" + i + "}");
        Field<BigDecimal> hashes = sum(field("hash_record_extended(row(" + String.join(", ", placeholders) + "), 0)",
                Long.class, (Object[]) t.fields()));
        return select(count().as(alias + "_rows"), coalesce(hashes, BigDecimal.ZERO).as(alias + "_hash"))
                .from(t).asTable(alias);
    }

    /** Loaded documents: each client's application_id and key, from its own stage row. */
    private Select<? extends Record> expectedClients(Table<?> loaded) {
        return select(id(loaded), integer(field("{0} ->> 'application_id'", String.class, stage(loaded))),
                field("jsonb_hash_extended({0}, 0)", Long.class, stage(loaded)))
                .from(loaded);
    }

    /**
     * Each loaded document's phones, a row a phone's key. The set-returning functions stand in select lists, where
     * they hand their rows over one by one (in FROM each call first fills a tuplestore: twice the time), and each
     * level is kept apart by OFFSET 0, so that what it takes out of the document is taken out once.
     */
    private Select<? extends Record> expectedPhones(Table<?> loaded) {
        Table<?> indexed = elements(loaded, "phones");
        Field<JSONB> element = field("{0} -> {1}", JSONB.class, indexed.field("elements"), indexed.field("i"));
        Table<?> phone = select(indexed.field("id"), indexed.field("i"), element.as("phone"),
                field("jsonb_object_keys({0})", String.class, element).as("type"))
                .from(indexed).offset(0).asTable("phone");
        return select(phone.field("id"), position(phone.field("i")), phone.field("type", String.class),
                field("{0} ->> {1}", String.class, phone.field("phone"), phone.field("type")))
                .from(phone);
    }

    private Select<? extends Record> expectedAddresses(Table<?> loaded) {
        Table<?> indexed = elements(loaded, "addresses");
        Table<?> address = select(indexed.field("id"), indexed.field("i"),
                field("{0} -> {1}", JSONB.class, indexed.field("elements"), indexed.field("i")).as("address"))
                .from(indexed).offset(0).asTable("address");
        var element = address.field("address");
        return select(address.field("id"), position(address.field("i")),
                text(element, "type"),
                field("to_date({0} ->> 'date', 'DD-MM-YYYY')", LocalDate.class, element),
                text(element, "address,city"), text(element, "address,street"), text(element, "address,house"),
                integer(text(element, "address,flat")))
                .from(address);
    }

    /**
     * One row an index of the loaded documents' array {@code key} ({@code id}, {@code elements}, {@code i}, from 0);
     * none for a document without the array. The array is taken out of the document a level below the
     * generate_series: beside a set-returning function, every other expression is evaluated again for each of its
     * rows, and a document of n elements would be read n times.
     */
    private static Table<?> elements(Table<?> loaded, String key) {
        Field<JSONB> array = field("{0} -> {1}", JSONB.class, stage(loaded), inline(key));
        Table<?> arrays = select(id(loaded).as("id"), array.as("elements"))
                .from(loaded)
                .where(field("jsonb_typeof({0})", String.class, array).eq("array"))
                .offset(0).asTable("arrays");
        Field<JSONB> elements = arrays.field("elements", JSONB.class);
        return select(arrays.field("id"), elements,
                field("generate_series(0, jsonb_array_length({0}) - 1)", Integer.class, elements).as("i"))
                .from(arrays)
                .offset(0).asTable("indexed");
    }

    /** A position as the tables count it, from 1. */
    private static Field<Integer> position(Field<?> index) {
        return field("({0} + 1)", Integer.class, index);
    }

    /** Each loaded document's products, a row a name of product_cnt; the maps taken out of the document once. */
    private Select<? extends Record> expectedProducts(Table<?> loaded) {
        Field<JSONB> products = field("{0} -> 'products'", JSONB.class, stage(loaded));
        Table<?> maps = select(id(loaded).as("id"),
                field("{0} -> 'product_cnt'", JSONB.class, products).as("counts"),
                field("{0} -> 'product_cost'", JSONB.class, products).as("costs"),
                field("{0} ->> 'total_sum'", String.class, products).as("total_sum"))
                .from(loaded)
                .where(field("jsonb_typeof({0} -> 'product_cnt')", String.class, products).eq("object"))
                .offset(0).asTable("maps");
        Table<?> product = select(maps.field("id"), maps.field("counts"), maps.field("costs"), maps.field("total_sum"),
                field("jsonb_object_keys({0})", String.class, maps.field("counts")).as("name"))
                .from(maps).offset(0).asTable("product");
        var name = product.field("name", String.class);
        return select(product.field("id"), name,
                integer(field("{0} ->> {1}", String.class, product.field("counts"), name)),
                integer(field("{0} ->> {1}", String.class, product.field("costs"), name)),
                integer(product.field("total_sum", String.class)))
                .from(product);
    }

    /** A JSON integer's text as the integer column shows it: 14.0 and 1e1 are the integers 14 and 10. */
    private static Field<Long> integer(Field<String> jsonNumberText) {
        return field("({0})::numeric::bigint", Long.class, jsonNumberText);
    }

    /**
     * A duplicate points at the loaded document equal to it as jsonb: among the clients with its key (the clients
     * check proves each key is its document's), the one whose document is equal. Looked up a duplicate at a time
     * (a subquery: an index probe, whatever the plan), so that no plan reads all clients for a few duplicates.
     */
    private Select<? extends Record> expectedDuplicates() {
        var duplicate = STAGE_JSON_WITH_DATE.as("duplicate");
        Field<Long> loadedTwin = equalLoaded(duplicate.ID, duplicate.STAGE,
                field("jsonb_hash_extended({0}, 0)", Long.class, duplicate.STAGE)).as("client_id");
        return select(LOAD_DUPLICATES.REQUEST_ID, loadedTwin)
                .from(LOAD_DUPLICATES)
                .join(duplicate).on(duplicate.ID.eq(LOAD_DUPLICATES.REQUEST_ID))
                .where(scope.outcomes(LOAD_DUPLICATES.REQUEST_ID, LOAD_DUPLICATES.BATCH_ID))
                .and(scope.documents(duplicate.ID));
    }

    /**
     * Every landed document in scope up to its lane's position is loaded, rejected or a duplicate, once; no outcome
     * in scope is of a document past its lane's position or never landed; no loaded document is equal to another loaded one.
     */
    private void checkAccounting(List<Difference> differences) {
        var m = LOAD_METADATA.as("m");
        var s = FAKE_JSON_REQUEST.as("s");
        Table<?> outcomes = select(CLIENTS.CLIENT_ID.as("request_id")).from(CLIENTS)
                .where(scope.outcomes(CLIENTS.CLIENT_ID, CLIENTS.BATCH_ID))
                .unionAll(select(LOAD_ERRORS.REQUEST_ID).from(LOAD_ERRORS)
                        .where(scope.outcomes(LOAD_ERRORS.REQUEST_ID, LOAD_ERRORS.BATCH_ID)))
                .unionAll(select(LOAD_DUPLICATES.REQUEST_ID).from(LOAD_DUPLICATES)
                        .where(scope.outcomes(LOAD_DUPLICATES.REQUEST_ID, LOAD_DUPLICATES.BATCH_ID)))
                .asTable("o");
        var outcome = outcomes.field("request_id", Long.class);
        var taken = condition("({0}, {1}) <= ({2}, {3})", s.LANDED_XID, s.ID, m.LAST_XID, m.LAST_REQUEST_ID);

        // Each document against the position of its lane (V011); on Citus, of its lane among the rows of the node
        // that landed it (OneLane reads load_metadata as the lane's positions by node).
        Field<Integer> node = OneLane.column(sql, m, "node");
        Condition ofItsLane = m.LANE.eq(Routines.documentLane(s.DOCUMENT_KEY))
                .and(node == null ? DSL.noCondition() : node.eq(OneLane.column(sql, s, "landed_node")));
        Table<?> notOnce = sql.select(s.ID, count(outcome).as("outcomes"))
                .from(s.join(m).on(ofItsLane).leftJoin(outcomes).on(outcome.eq(s.ID)))
                .where(taken).and(scope.documents(s.ID))
                .groupBy(s.ID)
                .having(count(outcome).ne(1))
                .asTable("not_once");
        Table<?> stray = sql.select(outcome)
                .from(outcomes.leftJoin(s).on(s.ID.eq(outcome))
                        .and(scope.documents(s.ID)).leftJoin(m).on(ofItsLane))
                .where(s.ID.isNull().or(not(taken)))
                .asTable("stray");
        long notOnceCount = sql.fetchCount(notOnce);
        long strayCount = sql.fetchCount(stray);
        if (notOnceCount + strayCount > 0) {
            List<String> examples = new ArrayList<>();
            sql.selectFrom(notOnce).limit(SHOWN).forEach(r -> examples.add("document " + r.get(0) + " has "
                    + r.get(1) + " outcomes instead of one"));
            sql.selectFrom(stray).limit(SHOWN).forEach(r -> examples.add("document " + r.get(0)
                    + " has an outcome but is past its lane's position or was never landed"));
            differences.add(new Difference("accounting", notOnceCount, strayCount, examples));
        }
    }

    /**
     * Loaded documents equal as jsonb to another loaded one: such a pair shares its key (the clients check proves
     * each key is its document's). Each loaded document in scope looks its key up (an index probe, in a subquery so
     * that no plan turns it into a scan of all clients) and compares the documents found.
     */
    private static Table<?> twins(Table<?> loaded) {
        // The client's key, not the document's hash again: the clients check proves they agree.
        Field<Long> equal = equalLoaded(id(loaded), stage(loaded), loaded.field("key", Long.class)).as("equal");
        Table<?> pairs = select(id(loaded).as("loaded"), equal).from(loaded).asTable("pairs");
        return select(pairs.fields()).from(pairs).where(pairs.field("equal").isNotNull()).asTable("twins");
    }

    /**
     * The first loaded document, other than {@code id}, equal as jsonb to {@code stage} (whose key is {@code key}),
     * or with that key and its landing row pruned; null for none. Correlated
     * subqueries all the way down, without a join: each is an index probe a row whatever the planner thinks (a
     * run's check forbids nested-loop joins), and min(), not ORDER BY ... LIMIT 1, which the planner may answer by
     * walking all clients in key order.
     */
    private static Field<Long> equalLoaded(Field<Long> id, Field<JSONB> stage, Field<Long> key) {
        var b = CLIENTS.as("b");
        var sb = FAKE_JSON_REQUEST.as("sb");
        Field<JSONB> itsDocument = select(sb.STAGE).from(sb).where(sb.ID.eq(b.CLIENT_ID)).asField();
        var gone = PRUNED_DOCUMENTS.as("gone");
        Field<byte[]> itsDigest = select(gone.DIGEST).from(gone).where(gone.REQUEST_ID.eq(b.CLIENT_ID)).asField();
        return select(min(b.CLIENT_ID)).from(b)
                .where(b.DOCUMENT_KEY.eq(key))
                // A loaded one whose landing row was pruned is compared by the digest its removal kept, as the
                // loader compares it; the key never decides alone.
                .and(b.CLIENT_ID.ne(id))
                .and(itsDocument.eq(stage).or(itsDocument.isNull().and(itsDigest.eq(Routines.documentDigest(stage)))))
                .asField();
    }

    private void checkTwins(List<Difference> differences) {
        Table<?> twins = twins(loadedDocuments());
        long twinCount = sql.fetchCount(twins);
        if (twinCount > 0) {
            List<String> examples = new ArrayList<>();
            sql.selectFrom(twins).orderBy(twins.field(0)).limit(SHOWN).forEach(r -> examples.add(
                    "document " + r.get(0) + " is loaded, and so is document " + r.get(1) + ", equal to it"));
            differences.add(new Difference("clients", 0, twinCount, examples));
        }
    }

    /**
     * Compares one table with what the mapping expects, in one pass, as multisets: both sides are stacked, expected
     * rows counting +1 and the table's -1, and grouped by value. A group summing above zero is a missing row, below
     * zero an unexpected one; a changed row is both. (A full join on the key would be shorter to write, but the
     * planner's row estimates for set-returning functions are so far off that it sizes the hash join into a
     * crawl; sorting is immune.) jOOQ's query objects are mutable, so each side is built afresh for every use.
     */
    private void compare(TableCheck check, List<Difference> differences) {
        String table = check.table();
        Supplier<Select<? extends Record>> expected = () -> check.expected().apply(loadedDocuments());
        Supplier<Select<? extends Record>> actual = check.actual();
        int width = actual.get().getSelect().size();
        String[] columns = new String[width + 1];
        Arrays.setAll(columns, i -> i < width ? "c" + i : "side");
        String[] values = Arrays.copyOf(columns, width);
        Table<?> e = expected.get().asTable("e", values);
        Table<?> a = actual.get().asTable("a", values);
        Table<?> stacked = select(e.fields()).select(inline(1)).from(e)
                .unionAll(select(a.fields()).select(inline(-1)).from(a))
                .asTable("stacked", columns);
        Field<?>[] value = Arrays.copyOf(stacked.fields(), width);
        Field<BigDecimal> surplus = sum(stacked.field("side", Integer.class));
        Table<?> unmatched = select(value).select(surplus.as("surplus")).from(stacked).groupBy(value)
                .having(surplus.ne(BigDecimal.ZERO)).asTable("unmatched");
        Field<BigDecimal> rows = unmatched.field("surplus", BigDecimal.class);

        Record2<BigDecimal, BigDecimal> counts = sql.select(
                        coalesce(sum(rows).filterWhere(rows.gt(BigDecimal.ZERO)), BigDecimal.ZERO),
                        coalesce(sum(rows.neg()).filterWhere(rows.lt(BigDecimal.ZERO)), BigDecimal.ZERO))
                .from(unmatched).fetchSingle();
        long missing = counts.value1().longValueExact();
        long unexpected = counts.value2().longValueExact();
        if (missing + unexpected > 0) {
            List<String> examples = new ArrayList<>();
            sql.selectFrom(unmatched).orderBy(unmatched.field(0), rows.desc()).limit(SHOWN)
                    .forEach(r -> examples.add((r.get(rows).signum() > 0 ? "missing " : "unexpected ")
                            + values(r, width)));
            differences.add(new Difference(table, missing, unexpected, examples));
        }
    }

    private static Field<Long> id(Table<?> loaded) {
        return loaded.field("id", Long.class);
    }

    private static Field<JSONB> stage(Table<?> loaded) {
        return loaded.field("stage", JSONB.class);
    }

    private static org.jooq.Field<String> text(org.jooq.Field<?> json, String path) {
        return field("{0} #>> {1}::text[]", String.class, json, inline("{" + path + "}"));
    }

    private static String values(Record record, int width) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < width; i++) {
            values.add(String.valueOf(record.get(i)));
        }
        return "(" + String.join(", ", values) + ")";
    }
}
