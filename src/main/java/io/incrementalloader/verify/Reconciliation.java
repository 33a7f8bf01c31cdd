package io.incrementalloader.verify;

import static io.incrementalloader.generated.public_.Tables.FAKE_JSON_REQUEST;
import static io.incrementalloader.generated.public_.Tables.STAGE_JSON_WITH_DATE;
import static io.incrementalloader.generated.test_mv.Tables.ADDRESSES;
import static io.incrementalloader.generated.test_mv.Tables.CLIENTS;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_DUPLICATES;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_ERRORS;
import static io.incrementalloader.generated.test_mv.Tables.LOAD_METADATA;
import static io.incrementalloader.generated.test_mv.Tables.PHONES;
import static io.incrementalloader.generated.test_mv.Tables.PRODUCTS;
import static org.jooq.impl.DSL.coalesce;
import static org.jooq.impl.DSL.condition;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.not;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.sum;
import static org.jooq.impl.DSL.table;

import io.incrementalloader.db.Snapshot;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Record2;
import org.jooq.Select;
import org.jooq.Table;

/**
 * Checks that the four tables hold exactly what the loaded documents say, and that every landed document is
 * accounted for. The expected rows are derived again from the stage, in SQL written apart from load_batch's, and
 * compared with the tables (read through jOOQ's generated classes) with EXCEPT ALL both ways, so that the work
 * stays in the database: a million documents take seconds, not a million round trips.
 */
public final class Reconciliation {
    private static final int SHOWN = 3;

    /** One table's verdict: rows the mapping expects but the table lacks, and rows the table has but should not. */
    public record Difference(String table, long missing, long unexpected, List<String> examples) {
        @Override
        public String toString() {
            return table + ": " + missing + " expected row(s) missing, " + unexpected + " unexpected row(s)"
                    + (examples.isEmpty() ? "" : "; first: " + String.join("; ", examples));
        }
    }

    private final DSLContext sql;

    private Reconciliation(DSLContext sql) {
        this.sql = sql;
    }

    /**
     * Every difference found; an empty list means the load is sound. All checks read one snapshot (a read-only
     * repeatable-read transaction, {@link Snapshot}), so a load running meanwhile cannot show up as a difference.
     * Each table's check sorts millions of rows at scale: it gets the memory to sort them in memory, and no JIT (the
     * planner's estimates for the set-returning functions are so far off that it would compile for nothing).
     */
    public static List<Difference> check(Connection connection) throws SQLException {
        return Snapshot.read(connection, sql -> new Reconciliation(sql).check(),
                "set local work_mem = '128MB'", "set local jit = off");
    }

    private List<Difference> check() {
        List<Difference> differences = new ArrayList<>();
        compare("clients", this::expectedClients, () -> select(CLIENTS.CLIENT_ID,
                CLIENTS.APPLICATION_ID.cast(String.class), CLIENTS.DOCUMENT_KEY.cast(String.class)).from(CLIENTS),
                differences);
        compare("phones", this::expectedPhones, () -> select(PHONES.CLIENT_ID, PHONES.POSITION.cast(String.class),
                PHONES.TYPE, PHONES.NUMBER).from(PHONES), differences);
        compare("addresses", this::expectedAddresses, () -> select(ADDRESSES.CLIENT_ID,
                ADDRESSES.POSITION.cast(String.class), ADDRESSES.TYPE, ADDRESSES.DATE.cast(String.class),
                ADDRESSES.CITY, ADDRESSES.STREET, ADDRESSES.HOUSE, ADDRESSES.FLAT.cast(String.class)).from(ADDRESSES),
                differences);
        compare("products", this::expectedProducts, () -> select(PRODUCTS.CLIENT_ID, PRODUCTS.PRODUCT_NAME,
                PRODUCTS.COUNT.cast(String.class), PRODUCTS.COST.cast(String.class),
                PRODUCTS.TOTAL_SUM.cast(String.class)).from(PRODUCTS), differences);
        compare("load_duplicates", this::expectedDuplicates, () -> select(LOAD_DUPLICATES.REQUEST_ID,
                LOAD_DUPLICATES.DUPLICATE_OF).from(LOAD_DUPLICATES), differences);
        checkAccounting(differences);
        return differences;
    }

    /** Loaded documents: each client's application_id and key, from its own stage row. */
    private Select<? extends Record> expectedClients() {
        return select(STAGE_JSON_WITH_DATE.ID, integer(field("{0} ->> 'application_id'", String.class, STAGE_JSON_WITH_DATE.STAGE)),
                field("jsonb_hash_extended({0}, 0)::text", String.class, STAGE_JSON_WITH_DATE.STAGE))
                .from(STAGE_JSON_WITH_DATE).join(CLIENTS).on(CLIENTS.CLIENT_ID.eq(STAGE_JSON_WITH_DATE.ID));
    }

    private Select<? extends Record> expectedPhones() {
        Table<?> phone = table("jsonb_array_elements(coalesce(nullif({0} -> 'phones', 'null'), '[]')) with ordinality",
                loadedStage())
                .as("phone", "element", "position");
        Table<?> entry = table("jsonb_each({0})", field(name("phone", "element"))).as("entry", "key", "value");
        return select(STAGE_JSON_WITH_DATE.ID, field(name("phone", "position")).cast(String.class),
                field(name("entry", "key"), String.class), field("{0} #>> '{}'", String.class, field(name("entry", "value"))))
                .from(loadedStages()).crossJoin(phone).crossJoin(entry);
    }

    private Select<? extends Record> expectedAddresses() {
        Table<?> address = table("jsonb_array_elements(coalesce(nullif({0} -> 'addresses', 'null'), '[]')) with ordinality",
                loadedStage())
                .as("a", "element", "position");
        var element = field(name("a", "element"));
        return select(STAGE_JSON_WITH_DATE.ID, field(name("a", "position")).cast(String.class),
                text(element, "type"),
                field("to_char(to_date({0} ->> 'date', 'DD-MM-YYYY'), 'YYYY-MM-DD')", String.class, element),
                text(element, "address,city"), text(element, "address,street"), text(element, "address,house"),
                integer(text(element, "address,flat")))
                .from(loadedStages()).crossJoin(address);
    }

    /**
     * Each document's products object is taken out once (OFFSET 0 keeps the planner from folding it back into every
     * product's expressions): looking every product's cost up in the whole document would read the document once a
     * product, and a document of n products would take n times its size.
     */
    private Select<? extends Record> expectedProducts() {
        Table<?> products = table("lateral (select {0} -> 'products' offset 0)", loadedStage()).as("p", "products");
        var object = field(name("p", "products"));
        Table<?> count = table("jsonb_each(coalesce(nullif({0} -> 'product_cnt', 'null'), '{}'))", object)
                .as("c", "name", "value");
        return select(STAGE_JSON_WITH_DATE.ID, field(name("c", "name"), String.class),
                integer(field("{0}::text", String.class, field(name("c", "value")))),
                integer(field("{0} #>> array['product_cost', {1}]", String.class, object, field(name("c", "name")))),
                integer(text(object, "total_sum")))
                .from(loadedStages()).crossJoin(products).crossJoin(count);
    }

    /** A JSON integer's text as the integer column shows it: 14.0 and 1e1 are the integers 14 and 10. */
    private static Field<String> integer(Field<String> jsonNumberText) {
        return field("({0})::numeric::bigint::text", String.class, jsonNumberText);
    }

    /**
     * A duplicate points at the loaded document equal to it as jsonb: among the clients with its key (the clients
     * check proves each key is its document's), the one whose document is equal.
     */
    private Select<? extends Record> expectedDuplicates() {
        var duplicate = STAGE_JSON_WITH_DATE.as("duplicate");
        var original = STAGE_JSON_WITH_DATE.as("original");
        return select(LOAD_DUPLICATES.REQUEST_ID, CLIENTS.CLIENT_ID)
                .from(LOAD_DUPLICATES)
                .join(duplicate).on(duplicate.ID.eq(LOAD_DUPLICATES.REQUEST_ID))
                .join(CLIENTS).on(CLIENTS.DOCUMENT_KEY.eq(field("jsonb_hash_extended({0}, 0)", Long.class, duplicate.STAGE)))
                .join(original).on(original.ID.eq(CLIENTS.CLIENT_ID).and(original.STAGE.eq(duplicate.STAGE)));
    }

    /** Every landed document up to the position is loaded, rejected or a duplicate, once; none past it is. */
    private void checkAccounting(List<Difference> differences) {
        var m = LOAD_METADATA.as("m");
        var s = FAKE_JSON_REQUEST.as("s");
        Table<?> outcomes = select(CLIENTS.CLIENT_ID.as("request_id")).from(CLIENTS)
                .unionAll(select(LOAD_ERRORS.REQUEST_ID).from(LOAD_ERRORS))
                .unionAll(select(LOAD_DUPLICATES.REQUEST_ID).from(LOAD_DUPLICATES))
                .asTable("o");
        var outcome = outcomes.field("request_id", Long.class);
        var taken = condition("({0}, {1}) <= ({2}, {3})", s.LANDED_XID, s.ID, m.LAST_XID, m.LAST_REQUEST_ID);

        Table<?> notOnce = sql.select(s.ID, count(outcome).as("outcomes"))
                .from(s.crossJoin(m).leftJoin(outcomes).on(outcome.eq(s.ID)))
                .where(taken)
                .groupBy(s.ID)
                .having(count(outcome).ne(1))
                .asTable("not_once");
        Table<?> stray = sql.select(outcome)
                .from(outcomes.crossJoin(m).leftJoin(s).on(s.ID.eq(outcome)))
                .where(s.ID.isNull().or(not(taken)))
                .asTable("stray");
        // Two loaded documents equal as jsonb: they share a key (the clients check proves each key is its
        // document's), so only clients whose key is not theirs alone are compared.
        Table<?> sharedKeys = sql.select(CLIENTS.DOCUMENT_KEY).from(CLIENTS).groupBy(CLIENTS.DOCUMENT_KEY)
                .having(count().gt(1)).asTable("shared");
        var key = sharedKeys.field(CLIENTS.DOCUMENT_KEY);
        var a = CLIENTS.as("a");
        var b = CLIENTS.as("b");
        var sa = STAGE_JSON_WITH_DATE.as("sa");
        var sb = STAGE_JSON_WITH_DATE.as("sb");
        Table<?> twins = sql.select(a.CLIENT_ID.as("loaded"), b.CLIENT_ID.as("again"))
                .from(sharedKeys.join(a).on(a.DOCUMENT_KEY.eq(key))
                        .join(b).on(b.DOCUMENT_KEY.eq(key).and(b.CLIENT_ID.gt(a.CLIENT_ID)))
                        .join(sa).on(sa.ID.eq(a.CLIENT_ID)).join(sb).on(sb.ID.eq(b.CLIENT_ID)))
                .where(sa.STAGE.eq(sb.STAGE))
                .asTable("twins");
        long notOnceCount = sql.fetchCount(notOnce);
        long strayCount = sql.fetchCount(stray);
        long twinCount = sql.fetchCount(twins);
        if (twinCount > 0) {
            List<String> examples = new ArrayList<>();
            sql.selectFrom(twins).limit(SHOWN).forEach(r -> examples.add("documents " + r.get(0) + " and " + r.get(1)
                    + " are equal and both loaded"));
            differences.add(new Difference("clients", 0, twinCount, examples));
        }
        if (notOnceCount + strayCount > 0) {
            List<String> examples = new ArrayList<>();
            sql.selectFrom(notOnce).limit(SHOWN).forEach(r -> examples.add("document " + r.get(0) + " has "
                    + r.get(1) + " outcomes instead of one"));
            sql.selectFrom(stray).limit(SHOWN).forEach(r -> examples.add("document " + r.get(0)
                    + " has an outcome but is past the position or was never landed"));
            differences.add(new Difference("accounting", notOnceCount, strayCount, examples));
        }
    }

    /**
     * Compares one table with what the mapping expects, in one pass, as multisets: both sides are stacked, expected
     * rows counting +1 and the table's -1, and grouped by value. A group summing above zero is a missing row, below
     * zero an unexpected one; a changed row is both. (A full join on the key would be shorter to write, but the
     * planner's row estimates for set-returning functions are so far off that it sizes the hash join into a
     * crawl; sorting is immune.) jOOQ's query objects are mutable, so each side is built afresh for every use.
     */
    private void compare(String table, Supplier<Select<? extends Record>> expected,
                         Supplier<Select<? extends Record>> actual, List<Difference> differences) {
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

    private static org.jooq.Field<org.jooq.JSONB> loadedStage() {
        return STAGE_JSON_WITH_DATE.STAGE;
    }

    private static Table<?> loadedStages() {
        return STAGE_JSON_WITH_DATE.join(CLIENTS).on(CLIENTS.CLIENT_ID.eq(STAGE_JSON_WITH_DATE.ID));
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
