package io.incrementalloader.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a job on a schedule, with the semantics operators know from the original Airflow DAG: a failed run is
 * retried once after {@code retryDelay}; ticks missed while a run was going on are not replayed (the next run is
 * the next tick after it ends); runs never overlap in one process (one thread does them all). {@link #stop()} ends
 * the wait at once, or lets the current run finish its batch.
 */
public final class Scheduler {
    private static final Logger log = LoggerFactory.getLogger("io.incrementalloader.serve");

    /** Waiting, replaceable in tests so that minutes pass at once. */
    public interface Sleeper {
        /** Waits until {@code until}; false when told to stop meanwhile. */
        boolean sleepUntil(Instant until, CountDownLatch stopped) throws InterruptedException;
    }

    private static final Sleeper REAL_TIME = (until, stopped) -> {
        long millis = Duration.between(Instant.now(), until).toMillis();
        return !stopped.await(Math.max(0, millis), TimeUnit.MILLISECONDS);
    };

    private final Schedule schedule;
    private final Job job;
    private final Duration retryDelay;
    private final Clock clock;
    private final Sleeper sleeper;
    private final CountDownLatch stopped = new CountDownLatch(1);

    /** {@code job} is made from the scheduler's stop state, which a run consults to stop after its current batch. */
    public Scheduler(Schedule schedule, Function<BooleanSupplier, ? extends Job> job, Duration retryDelay) {
        this(schedule, job, retryDelay, Clock.systemUTC(), REAL_TIME);
    }

    public Scheduler(Schedule schedule, Function<BooleanSupplier, ? extends Job> job, Duration retryDelay, Clock clock,
                     Sleeper sleeper) {
        this.schedule = schedule;
        this.job = job.apply(this::isStopping);
        this.retryDelay = retryDelay;
        this.clock = clock;
        this.sleeper = sleeper;
    }

    /** Runs until {@link #stop()}, the first run at the first tick; a run going on then finishes first. */
    public void run() throws InterruptedException {
        run(false);
    }

    /**
     * Runs until {@link #stop()}; with {@code startNow} the first run comes at once (a restarted service catches up
     * without waiting for a tick), with the same retry as every other run.
     */
    public void run(boolean startNow) throws InterruptedException {
        boolean due = startNow;
        while (!isStopping()) {
            if (!due && !sleeper.sleepUntil(schedule.next(clock.instant()), stopped)) {
                return;
            }
            due = false;
            if (job.get() == RunOutcome.FAILED && !isStopping()) {
                log.info("retrying in {}", retryDelay.toString().substring(2).toLowerCase());
                if (!sleeper.sleepUntil(clock.instant().plus(retryDelay), stopped)) {
                    return;
                }
                job.get();
            }
        }
    }

    public void stop() {
        stopped.countDown();
    }

    /** Cancels the run in progress, if any (see {@link Job#cancel()}). */
    public void cancelRun() {
        job.cancel();
    }

    public boolean isStopping() {
        return stopped.getCount() == 0;
    }
}
