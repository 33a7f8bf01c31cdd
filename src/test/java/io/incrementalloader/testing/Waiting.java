package io.incrementalloader.testing;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waits for what another process does (a serve instance, a probe), failing the test when it does not come. */
public final class Waiting {
    private Waiting() {
    }

    public static void until(BooleanSupplier condition, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not reached within " + seconds + " s");
            }
            Thread.sleep(200);
        }
    }
}
