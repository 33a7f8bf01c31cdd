package io.incrementalloader.load;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Which lane a caller on Citus asks for next. On one server load_next_batch chooses the lane; on Citus the caller
 * names it, so that the call runs on the worker that holds the lane. A caller starts at a lane of its own (chosen at
 * random, so that K callers spread over the lanes), stays on a lane while its batches come full, and goes round the
 * lanes; it is done when a whole round took nothing: no lane that no other caller holds has documents pending.
 */
final class CitusLanes {
    static final int LANES = 16;

    private int lane = ThreadLocalRandom.current().nextInt(LANES);
    private int emptyInARow;

    /** The lane to call next. */
    int next() {
        return lane;
    }

    /** The lane's call took a batch; a full one keeps the caller on the lane. */
    void took(boolean full) {
        emptyInARow = 0;
        if (!full) {
            lane = (lane + 1) % LANES;
        }
    }

    /** The lane's call took nothing; returns whether another lane is still to be tried in this round. */
    boolean tookNothing() {
        emptyInARow++;
        lane = (lane + 1) % LANES;
        return emptyInARow < LANES;
    }
}
