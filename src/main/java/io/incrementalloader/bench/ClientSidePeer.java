package io.incrementalloader.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.Map;

/**
 * What a competent Java team would write instead of SQL in the database, for comparison only: read a batch of
 * stage rows, parse them with Jackson, write the rows with JDBC, commit every batch. Its guarantees are off: no
 * validation beyond parsing, no duplicate detection, no protection against slow producers, no run history.
 * With {@code batched} false it is the naive reference: one INSERT per row.
 */
final class ClientSidePeer {
    private static final DateTimeFormatter DD_MM_YYYY = DateTimeFormatter.ofPattern("dd-MM-yyyy");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final boolean batched;
    private final int batchSize;

    ClientSidePeer(boolean batched, int batchSize) {
        this.batched = batched;
        this.batchSize = batchSize;
    }

    /** Loads every landed document; the connection should have reWriteBatchedInserts=true. */
    void loadAll(Connection connection) throws Exception {
        connection.setAutoCommit(false);
        try (PreparedStatement read = connection.prepareStatement(
                     "select id, stage::text, jsonb_hash_extended(stage, 0) from public.fake_json_request where id > ? order by id limit ?");
             PreparedStatement client = connection.prepareStatement(
                     "insert into test_mv.clients (client_id, application_id, document_key, batch_id) values (?, ?, ?, 0)");
             PreparedStatement phone = connection.prepareStatement(
                     "insert into test_mv.phones (client_id, position, type, number) values (?, ?, ?, ?)");
             PreparedStatement address = connection.prepareStatement("insert into test_mv.addresses"
                     + " (client_id, position, type, date, city, street, house, flat) values (?, ?, ?, ?, ?, ?, ?, ?)");
             PreparedStatement product = connection.prepareStatement("insert into test_mv.products"
                     + " (client_id, product_name, count, cost, total_sum) values (?, ?, ?, ?, ?)")) {
            long last = 0;
            while (true) {
                read.setLong(1, last);
                read.setInt(2, batchSize);
                int documents = 0;
                try (ResultSet rows = read.executeQuery()) {
                    while (rows.next()) {
                        last = rows.getLong(1);
                        write(last, rows.getString(2), rows.getLong(3), client, phone, address, product);
                        documents++;
                    }
                }
                if (documents == 0) {
                    break;
                }
                if (batched) {
                    client.executeBatch();
                    phone.executeBatch();
                    address.executeBatch();
                    product.executeBatch();
                }
                connection.commit();
            }
        } finally {
            connection.setAutoCommit(true);
        }
    }

    private void write(long id, String text, long documentKey, PreparedStatement client, PreparedStatement phone,
                       PreparedStatement address, PreparedStatement product) throws Exception {
        JsonNode doc = JSON.readTree(text);
        client.setLong(1, id);
        client.setInt(2, doc.get("application_id").intValue());
        client.setLong(3, documentKey);
        add(client);
        JsonNode phones = doc.path("phones");
        for (int i = 0; i < phones.size(); i++) {
            Map.Entry<String, JsonNode> only = phones.get(i).fields().next();
            phone.setLong(1, id);
            phone.setInt(2, i + 1);
            phone.setString(3, only.getKey());
            phone.setString(4, only.getValue().asText());
            add(phone);
        }
        JsonNode addresses = doc.path("addresses");
        for (int i = 0; i < addresses.size(); i++) {
            JsonNode a = addresses.get(i);
            JsonNode inner = a.path("address");
            address.setLong(1, id);
            address.setInt(2, i + 1);
            address.setString(3, a.path("type").asText(null));
            String date = a.path("date").asText(null);
            address.setDate(4, date == null ? null : Date.valueOf(LocalDate.parse(date, DD_MM_YYYY)));
            address.setString(5, inner.path("city").asText(null));
            address.setString(6, inner.path("street").asText(null));
            address.setString(7, inner.path("house").asText(null));
            if (inner.hasNonNull("flat")) {
                address.setInt(8, inner.get("flat").intValue());
            } else {
                address.setNull(8, Types.INTEGER);
            }
            add(address);
        }
        JsonNode products = doc.path("products");
        for (Iterator<Map.Entry<String, JsonNode>> it = products.path("product_cnt").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> count = it.next();
            product.setLong(1, id);
            product.setString(2, count.getKey());
            product.setInt(3, count.getValue().intValue());
            JsonNode cost = products.path("product_cost").get(count.getKey());
            product.setObject(4, cost == null || cost.isNull() ? null : cost.longValue(), Types.BIGINT);
            product.setObject(5, products.hasNonNull("total_sum") ? products.get("total_sum").longValue() : null, Types.BIGINT);
            add(product);
        }
    }

    private void add(PreparedStatement statement) throws SQLException {
        if (batched) {
            statement.addBatch();
        } else {
            statement.executeUpdate();
        }
    }
}
