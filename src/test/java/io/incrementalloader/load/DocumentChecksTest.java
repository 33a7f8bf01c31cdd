package io.incrementalloader.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.incrementalloader.generate.DocumentGenerator;
import io.incrementalloader.generate.Malformation;
import io.incrementalloader.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The batch lets a document through by is_loadable and explains a rejection by document_problem: two writings of
 * the same rules, which must agree on every document, or a document would be rejected without a reason (or loaded
 * with one).
 */
class DocumentChecksTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Values a damaged document may get anywhere: every JSON type, and the edge cases of each rule. */
    private static final List<String> VALUES = List.of("null", "true", "0", "-1", "14.0", "1.5", "2147483647",
            "2147483648", "-2147483649", "3000000000", "9223372036854775807", "9223372036854775808", "1e2", "\"\"",
            "\"14\"", "\"x\"", "\"01-01-2000\"", "\"31-02-2020\"", "\"29-02-2000\"", "\"29-02-1900\"",
            "\"2020-01-01\"", "\"1-1-2000\"", "[]", "[1]", "[{}]", "[{\"a\": 1}]", "[{\"a\": 1, \"b\": 2}]",
            "[null]", "[[{\"a\": 1}]]", "{}", "{\"a\": 1}", "{\"a\": 1, \"b\": 2}", "{\"a\": \"x\"}", "{\"a\": null}",
            "{\"flat\": 1.5}", "{\"date\": \"31-04-2021\"}");

    @Test
    void is_loadable_and_document_problem_agree_on_every_malformation_the_generator_knows() {
        List<String> documents = new ArrayList<>();
        for (Malformation malformation : Malformation.values()) {
            documents.add(malformation.document(new SplittableRandom(7)));
        }
        List<String> disagreements = disagreements(documents);
        assertEquals(List.of(), disagreements);
        assertEquals(0, db.count("select count(*) from documents where test_mv.is_loadable(document)"),
                "every malformation is rejected");
    }

    @Test
    void is_loadable_and_document_problem_agree_on_thousands_of_randomly_damaged_documents() throws Exception {
        SplittableRandom random = new SplittableRandom(2026);
        List<String> documents = new ArrayList<>();
        for (JsonNode document : generated(300)) {
            documents.add(document.toString());
            for (int damage = 0; damage < 10; damage++) {
                JsonNode copy = document.deepCopy();
                int places = 1 + random.nextInt(2);
                for (int p = 0; p < places; p++) {
                    copy = damage(copy, random);
                }
                documents.add(copy.toString());
            }
        }
        assertEquals(List.of(), disagreements(documents));
        long loadable = db.count("select count(*) from documents where test_mv.is_loadable(document)");
        assertTrue(loadable > 300 && loadable < documents.size() - 300,
                "the damage must produce both kinds, not " + loadable + " loadable of " + documents.size());
    }

    /** Every day of a few years, written DD-MM-YYYY, and the strings around them: the date rule, day by day. */
    @Test
    void is_loadable_and_document_problem_agree_on_every_date_around_the_calendars_edges() {
        List<String> documents = new ArrayList<>();
        for (String year : List.of("0000", "0001", "0004", "0100", "0400", "1900", "1999", "2000", "2023", "2024",
                "2100", "2400", "9999")) {
            for (int month = 0; month <= 13; month++) {
                for (int day = 0; day <= 32; day++) {
                    documents.add(String.format("{\"application_id\": 1, \"addresses\": [{\"date\": \"%02d-%02d-%s\"}]}",
                            day, month, year));
                }
            }
        }
        assertEquals(List.of(), disagreements(documents));
        assertEquals(5 * 366 + 7 * 365, // leap: 0004 0400 2000 2024 2400; 0000 is no year
                db.count("select count(*) from documents where test_mv.is_loadable(document)"),
                "every real day of the years 0001..9999 among them, and no other");
    }

    /** The documents whose verdicts disagree, each with both verdicts; empty when they all agree. */
    private static List<String> disagreements(List<String> documents) {
        db.execute("drop table if exists documents; create table documents (document jsonb not null)");
        db.insertJson("documents (document)", documents);
        return db.query("select document::text, test_mv.is_loadable(document), test_mv.document_problem(document)"
                        + " from documents"
                        + " where test_mv.is_loadable(document) = (test_mv.document_problem(document) is not null)"
                        + " limit 10").stream().map(Object::toString).toList();
    }

    private static List<JsonNode> generated(int count) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new DocumentGenerator(11, 0, 0).write(count, out);
        List<JsonNode> documents = new ArrayList<>();
        JSON.readTree(out.toByteArray()).forEach(documents::add);
        return documents;
    }

    /** The document with one value somewhere in it replaced, removed, or given a sibling. */
    private static JsonNode damage(JsonNode document, SplittableRandom random) throws Exception {
        List<JsonNode> containers = new ArrayList<>();
        collectContainers(document, containers);
        if (containers.isEmpty()) {
            return document;
        }
        JsonNode container = containers.get(random.nextInt(containers.size()));
        JsonNode value = JSON.readTree(VALUES.get(random.nextInt(VALUES.size())));
        if (container == document && random.nextInt(20) == 0) {
            return value;
        }
        if (container instanceof ObjectNode object) {
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            int action = random.nextInt(10);
            if (names.isEmpty() || action == 0) {
                object.set(List.of("extra", "date", "flat", "address", "total_sum").get(random.nextInt(5)), value);
            } else if (action == 1) {
                object.remove(names.get(random.nextInt(names.size())));
            } else {
                object.set(names.get(random.nextInt(names.size())), value);
            }
        } else if (container instanceof ArrayNode array) {
            if (array.isEmpty() || random.nextInt(5) == 0) {
                array.add(value);
            } else {
                array.set(random.nextInt(array.size()), value);
            }
        }
        return document;
    }

    private static void collectContainers(JsonNode node, List<JsonNode> into) {
        if (node.isContainerNode()) {
            into.add(node);
            for (Iterator<JsonNode> children = node.elements(); children.hasNext(); ) {
                collectContainers(children.next(), into);
            }
        }
    }
}
