package io.incrementalloader.testing;

import static io.incrementalloader.generated.test_mv.Tables.ADDRESSES;
import static io.incrementalloader.generated.test_mv.Tables.CLIENTS;
import static io.incrementalloader.generated.test_mv.Tables.PHONES;
import static io.incrementalloader.generated.test_mv.Tables.PRODUCTS;
import static io.incrementalloader.testing.ReferenceDecomposition.row;

import java.util.List;
import org.jooq.DSLContext;

/** What the four tables hold, read through jOOQ's generated classes, as rows in {@link ReferenceDecomposition}'s form. */
public record LoadedRows(List<String> clients, List<String> phones, List<String> addresses, List<String> products) {

    public static LoadedRows read(DSLContext sql) {
        return new LoadedRows(
                sql.selectFrom(CLIENTS).orderBy(CLIENTS.CLIENT_ID).fetch(r -> row(r.getClientId(), r.getApplicationId())),
                sql.selectFrom(PHONES).orderBy(PHONES.CLIENT_ID, PHONES.POSITION)
                        .fetch(r -> row(r.getClientId(), r.getPosition(), r.getType(), r.getNumber())),
                sql.selectFrom(ADDRESSES).orderBy(ADDRESSES.CLIENT_ID, ADDRESSES.POSITION)
                        .fetch(r -> row(r.getClientId(), r.getPosition(), r.getType(), r.getDate(), r.getCity(),
                                r.getStreet(), r.getHouse(), r.getFlat())),
                sql.selectFrom(PRODUCTS).orderBy(PRODUCTS.CLIENT_ID, PRODUCTS.PRODUCT_NAME.collate("C"))
                        .fetch(r -> row(r.getClientId(), r.getProductName(), r.getCount(), r.getCost(), r.getTotalSum())));
    }
}
