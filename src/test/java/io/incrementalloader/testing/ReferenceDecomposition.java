package io.incrementalloader.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What the contract says a document becomes, computed in Java from the document alone: the rows of each table,
 * or the field that makes it rejected. Written apart from the SQL so that the tests compare two readings of the
 * contract, not one with itself. Rows are rendered as strings, the form the tests compare.
 */
public final class ReferenceDecomposition {
    private static final DateTimeFormatter DD_MM_YYYY =
            DateTimeFormatter.ofPattern("dd-MM-uuuu").withResolverStyle(ResolverStyle.STRICT);
    private static final BigInteger INT_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
    private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    /** The rows of one loaded document, or {@code rejectedField} when it must be rejected. */
    public record Outcome(String rejectedField, String client, List<String> phones, List<String> addresses,
                          List<String> products) {
        public boolean rejected() {
            return rejectedField != null;
        }
    }

    private ReferenceDecomposition() {
    }

    public static Outcome of(long requestId, JsonNode doc) {
        String problem = problemField(doc);
        if (problem != null) {
            return new Outcome(problem, null, List.of(), List.of(), List.of());
        }
        List<String> phones = new ArrayList<>();
        JsonNode phoneArray = doc.path("phones");
        for (int i = 0; i < phoneArray.size(); i++) {
            Map.Entry<String, JsonNode> only = phoneArray.get(i).fields().next();
            phones.add(row(requestId, i + 1, only.getKey(), text(only.getValue())));
        }
        List<String> addresses = new ArrayList<>();
        JsonNode addressArray = doc.path("addresses");
        for (int i = 0; i < addressArray.size(); i++) {
            JsonNode a = addressArray.get(i);
            JsonNode address = a.path("address");
            String date = text(a.get("date")) == null ? null : LocalDate.parse(a.get("date").asText(), DD_MM_YYYY).toString();
            addresses.add(row(requestId, i + 1, text(a.get("type")), date, text(address.get("city")),
                    text(address.get("street")), text(address.get("house")), text(address.get("flat"))));
        }
        List<String> products = new ArrayList<>();
        JsonNode counts = doc.path("products").path("product_cnt");
        for (Iterator<Map.Entry<String, JsonNode>> it = counts.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> count = it.next();
            products.add(row(requestId, count.getKey(), count.getValue().bigIntegerValue(),
                    text(doc.path("products").path("product_cost").get(count.getKey())),
                    text(doc.path("products").get("total_sum"))));
        }
        return new Outcome(null, row(requestId, doc.get("application_id").intValue()), phones, addresses, products);
    }

    /** The field the contract's first violated rule names, or null for a loadable document. */
    public static String problemField(JsonNode doc) {
        if (!doc.isObject()) {
            return "document";
        }
        if (!isInteger(doc.get("application_id"), INT_MIN, INT_MAX)) {
            return "application_id";
        }
        JsonNode phones = doc.get("phones");
        JsonNode addresses = doc.get("addresses");
        JsonNode products = doc.get("products");
        if (present(phones) && !phones.isArray()) {
            return "phones";
        }
        if (present(addresses) && !addresses.isArray()) {
            return "addresses";
        }
        if (present(products) && !products.isObject()) {
            return "products";
        }
        JsonNode counts = present(products) ? products.get("product_cnt") : null;
        JsonNode costs = present(products) ? products.get("product_cost") : null;
        if (present(counts) && !counts.isObject()) {
            return "products.product_cnt";
        }
        if (present(costs) && !costs.isObject()) {
            return "products.product_cost";
        }
        if (present(products) && present(products.get("total_sum")) && !isInteger(products.get("total_sum"), LONG_MIN, LONG_MAX)) {
            return "products.total_sum";
        }
        for (int i = 0; present(phones) && i < phones.size(); i++) {
            if (!phones.get(i).isObject() || phones.get(i).size() != 1) {
                return "phones[" + i + "]";
            }
        }
        for (int i = 0; present(addresses) && i < addresses.size(); i++) {
            JsonNode a = addresses.get(i);
            if (!a.isObject()) {
                return "addresses[" + i + "]";
            }
            if (present(a.get("date")) && !isDate(a.get("date"))) {
                return "addresses[" + i + "].date";
            }
            if (present(a.get("address")) && !a.get("address").isObject()) {
                return "addresses[" + i + "].address";
            }
            if (present(a.get("address")) && present(a.get("address").get("flat"))
                    && !isInteger(a.get("address").get("flat"), INT_MIN, INT_MAX)) {
                return "addresses[" + i + "].address.flat";
            }
        }
        List<String> badCounts = new ArrayList<>();
        if (present(counts)) {
            counts.fields().forEachRemaining(e -> {
                if (!isInteger(e.getValue(), INT_MIN, INT_MAX)) {
                    badCounts.add(e.getKey());
                }
            });
        }
        if (!badCounts.isEmpty()) {
            return "products.product_cnt." + badCounts.stream().sorted().findFirst().orElseThrow();
        }
        List<String> badCosts = new ArrayList<>();
        if (present(costs)) {
            costs.fields().forEachRemaining(e -> {
                if (present(e.getValue()) && !isInteger(e.getValue(), LONG_MIN, LONG_MAX)) {
                    badCosts.add(e.getKey());
                }
            });
        }
        return badCosts.stream().sorted().findFirst().map(key -> "products.product_cost." + key).orElse(null);
    }

    private static boolean present(JsonNode node) {
        return node != null && !node.isNull();
    }

    private static boolean isInteger(JsonNode node, BigInteger min, BigInteger max) {
        // An integer by value, as the contract says: 14.0 and 1e1 are the integers 14 and 10.
        if (node == null || !node.isNumber()
                || !node.isIntegralNumber() && node.decimalValue().stripTrailingZeros().scale() > 0) {
            return false;
        }
        BigInteger value = node.decimalValue().toBigInteger();
        return value.compareTo(min) >= 0 && value.compareTo(max) <= 0;
    }

    private static boolean isDate(JsonNode node) {
        if (!node.isTextual() || !node.asText().matches("[0-9]{2}-[0-9]{2}-[0-9]{4}")) {
            return false;
        }
        try {
            return LocalDate.parse(node.asText(), DD_MM_YYYY).getYear() >= 1;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    /** A JSON value as the tables store it as text: strings unquoted, other values as JSON, null as null. */
    private static String text(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        return node.isTextual() ? node.asText() : node.toString();
    }

    public static String row(Object... values) {
        StringBuilder row = new StringBuilder();
        for (Object value : values) {
            row.append(row.length() == 0 ? "" : " | ").append(value);
        }
        return row.toString();
    }
}
