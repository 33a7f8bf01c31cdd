package io.incrementalloader.generate;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.SplittableRandom;

/**
 * The ways a document can break the rules (docs/specification.md, When a document is rejected), each with the field a
 * rejection must name.
 * Every one writes a document that is well-formed JSON but must be rejected whole.
 */
public enum Malformation {
    NOT_AN_OBJECT("document", "[1, 2, 3]"),
    APPLICATION_ID_MISSING("application_id", "{\"client_id\": 1, \"phones\": []}"),
    APPLICATION_ID_A_STRING("application_id", "{\"application_id\": \"14\"}"),
    APPLICATION_ID_A_FRACTION("application_id", "{\"application_id\": 1.5}"),
    APPLICATION_ID_A_BOOLEAN("application_id", "{\"application_id\": true}"),
    APPLICATION_ID_TOO_LARGE("application_id", "{\"application_id\": 3000000000}"),
    APPLICATION_ID_IN_AN_ARRAY("application_id", "{\"application_id\": [14]}"),
    PHONES_NOT_AN_ARRAY("phones", "{\"application_id\": %d, \"phones\": {\"mobile\": \"0901300352\"}}"),
    PHONE_WITH_TWO_KEYS("phones[1]", "{\"application_id\": %d, \"phones\": [{\"home\": \"1\"}, {\"mobile\": \"2\", \"work\": \"3\"}]}"),
    PHONE_NOT_AN_OBJECT("phones[0]", "{\"application_id\": %d, \"phones\": [\"0901300352\"]}"),
    PHONE_EMPTY_OBJECT("phones[0]", "{\"application_id\": %d, \"phones\": [{}]}"),
    ADDRESSES_NOT_AN_ARRAY("addresses", "{\"application_id\": %d, \"addresses\": \"moscow\"}"),
    ADDRESS_NOT_AN_OBJECT("addresses[0]", "{\"application_id\": %d, \"addresses\": [42]}"),
    DATE_NOT_IN_THE_CALENDAR("addresses[0].date", "{\"application_id\": %d, \"addresses\": [{\"type\": \"work\", \"date\": \"31-02-2020\", \"address\": null}]}"),
    DATE_IN_ISO_FORMAT("addresses[1].date", "{\"application_id\": %d, \"addresses\": [{\"date\": null}, {\"type\": \"work\", \"date\": \"2020-01-01\", \"address\": null}]}"),
    DATE_A_NUMBER("addresses[0].date", "{\"application_id\": %d, \"addresses\": [{\"date\": 20200101}]}"),
    ADDRESS_A_STRING("addresses[0].address", "{\"application_id\": %d, \"addresses\": [{\"type\": \"work\", \"date\": null, \"address\": \"moscow\"}]}"),
    FLAT_A_STRING("addresses[0].address.flat", "{\"application_id\": %d, \"addresses\": [{\"type\": \"work\", \"date\": \"01-01-2000\", \"address\": {\"city\": \"x\", \"flat\": \"2\"}}]}"),
    FLAT_TOO_LARGE("addresses[0].address.flat", "{\"application_id\": %d, \"addresses\": [{\"address\": {\"flat\": 99999999999}}]}"),
    PRODUCTS_NOT_AN_OBJECT("products", "{\"application_id\": %d, \"products\": [1]}"),
    PRODUCT_CNT_NOT_AN_OBJECT("products.product_cnt", "{\"application_id\": %d, \"products\": {\"product_cnt\": 4}}"),
    PRODUCT_COST_NOT_AN_OBJECT("products.product_cost", "{\"application_id\": %d, \"products\": {\"product_cost\": \"free\"}}"),
    PRODUCT_COUNT_A_FRACTION("products.product_cnt.pen", "{\"application_id\": %d, \"products\": {\"product_cnt\": {\"pen\": 1.5}}}"),
    PRODUCT_COUNT_IN_AN_ARRAY("products.product_cnt.pen", "{\"application_id\": %d, \"products\": {\"product_cnt\": {\"pen\": [1]}}}"),
    PRODUCT_COUNT_NULL("products.product_cnt.pen", "{\"application_id\": %d, \"products\": {\"product_cnt\": {\"pen\": null}}}"),
    PRODUCT_COST_A_STRING("products.product_cost.pen", "{\"application_id\": %d, \"products\": {\"product_cnt\": {\"pen\": 1}, \"product_cost\": {\"pen\": \"10\"}}}"),
    TOTAL_SUM_A_STRING("products.total_sum", "{\"application_id\": %d, \"products\": {\"total_sum\": \"451\"}}");

    private final String field;
    private final String template;

    Malformation(String field, String template) {
        this.field = field;
        this.template = template;
    }

    /** The field a rejection's reason must start with. */
    public String field() {
        return field;
    }

    /** The document, with a random application_id where the malformation leaves it valid. */
    public String document(SplittableRandom random) {
        return template.contains("%d") ? String.format(template, random.nextInt(1, 1_000_000)) : template;
    }

    void write(JsonGenerator json, SplittableRandom random) throws IOException {
        json.writeRaw(document(random));
    }
}
