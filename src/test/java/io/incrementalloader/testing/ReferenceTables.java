package io.incrementalloader.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.incrementalloader.testing.ReferenceDecomposition.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the four tables and the outcomes must hold once every landed document is taken, computed in Java: each
 * landed document decomposed ({@link ReferenceDecomposition}) in landing order (landed_xid, id), a document equal
 * as jsonb to a loaded one (by its own canonical form, written apart from the loader's key) being its duplicate.
 * The loader decides twins in its lane's order, which is this order restricted to the lane they share.
 */
public record ReferenceTables(List<String> clients, List<String> phones, List<String> addresses,
                              List<String> products, Map<Long, String> rejectedFields, Map<Long, Long> duplicates) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    /** The reference for every document landed in the database. */
    public static ReferenceTables of(TestDatabase db) {
        Map<String, Long> loadedByKey = new HashMap<>();
        List<String> clients = new ArrayList<>();
        List<String> phones = new ArrayList<>();
        List<String> addresses = new ArrayList<>();
        List<String> products = new ArrayList<>();
        Map<Long, String> rejectedFields = new HashMap<>();
        Map<Long, Long> duplicates = new HashMap<>();
        for (List<Object> landed : db.query("select id, stage::text from stage_json_with_date order by landed_xid, id")) {
            long id = (Long) landed.get(0);
            JsonNode document = parse((String) landed.get(1));
            String key = canonical(document);
            Outcome outcome = ReferenceDecomposition.of(id, document);
            if (outcome.rejected()) {
                rejectedFields.put(id, outcome.rejectedField());
            } else if (loadedByKey.containsKey(key)) {
                duplicates.put(id, loadedByKey.get(key));
            } else {
                loadedByKey.put(key, id);
                clients.add(outcome.client());
                phones.addAll(outcome.phones());
                addresses.addAll(outcome.addresses());
                outcome.products().stream().sorted().forEach(products::add);
            }
        }
        return new ReferenceTables(clients, phones, addresses, products, rejectedFields, duplicates);
    }

    /** Asserts that the tables, the rejections (each reason naming its field) and the duplicates are the reference. */
    public void assertLoaded(TestDatabase db) {
        // As sets of rows (sorted lists, so that a row twice is a difference too): concurrent producers land in an
        // order of ids that differs from the order of their transactions.
        LoadedRows rows = db.jooq(LoadedRows::read);
        assertEquals(sorted(clients), sorted(rows.clients()));
        assertEquals(sorted(phones), sorted(rows.phones()));
        assertEquals(sorted(addresses), sorted(rows.addresses()));
        assertEquals(sorted(products), sorted(rows.products()));

        Map<Long, String> reasons = new HashMap<>();
        db.query("select request_id, reason from test_mv.load_errors").forEach(r -> reasons.put((Long) r.get(0), (String) r.get(1)));
        assertEquals(rejectedFields.keySet(), reasons.keySet());
        rejectedFields.forEach((id, field) -> assertTrue(reasons.get(id).startsWith(field + ":"),
                "document " + id + ": '" + reasons.get(id) + "' should name " + field));
        Map<Long, Long> recordedDuplicates = new HashMap<>();
        db.query("select request_id, duplicate_of from test_mv.load_duplicates")
                .forEach(r -> recordedDuplicates.put((Long) r.get(0), (Long) r.get(1)));
        assertEquals(duplicates, recordedDuplicates);
    }

    private static List<String> sorted(List<String> rows) {
        return rows.stream().sorted().toList();
    }

    public int documents() {
        return clients.size() + rejectedFields.size() + duplicates.size();
    }

    private static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A document as text that documents equal as jsonb share: keys sorted, numbers without their scale. */
    private static String canonical(JsonNode node) {
        if (node.isObject()) {
            TreeMap<String, String> members = new TreeMap<>();
            node.fields().forEachRemaining(e -> members.put(e.getKey(), canonical(e.getValue())));
            StringBuilder out = new StringBuilder("{");
            members.forEach((k, v) -> out.append(JSON.getNodeFactory().textNode(k)).append(':').append(v).append(','));
            return out.append('}').toString();
        }
        if (node.isArray()) {
            StringBuilder out = new StringBuilder("[");
            node.forEach(e -> out.append(canonical(e)).append(','));
            return out.append(']').toString();
        }
        if (node.isNumber()) {
            java.math.BigDecimal value = node.decimalValue();
            return value.signum() == 0 ? "0" : value.stripTrailingZeros().toPlainString();
        }
        return node.toString();
    }
}
