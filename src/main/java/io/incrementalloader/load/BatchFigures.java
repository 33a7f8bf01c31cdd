package io.incrementalloader.load;

/**
 * What batches did: documents taken and what became of them, and the rows written. Adds up over a run, which
 * also remembers its first and last batch ids (0 when it took nothing), by which its work is checked afterwards.
 */
public record BatchFigures(int batches, long taken, long loaded, long rejected, long duplicates,
                           long phones, long addresses, long products, long firstBatchId, long lastBatchId) {

    public static final BatchFigures NONE = new BatchFigures(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public BatchFigures plus(BatchFigures other) {
        if (batches == 0) {
            return other;
        }
        return new BatchFigures(batches + other.batches, taken + other.taken, loaded + other.loaded,
                rejected + other.rejected, duplicates + other.duplicates, phones + other.phones,
                addresses + other.addresses, products + other.products, Math.min(firstBatchId, other.firstBatchId),
                Math.max(lastBatchId, other.lastBatchId));
    }

    public long rows() {
        return loaded + phones + addresses + products;
    }

    @Override
    public String toString() {
        return String.format("%,d documents in %,d batches (loaded %,d, rejected %,d, duplicates %,d; rows: clients %,d, "
                        + "phones %,d, addresses %,d, products %,d)",
                taken, batches, loaded, rejected, duplicates, loaded, phones, addresses, products);
    }
}
