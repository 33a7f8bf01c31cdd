package io.incrementalloader.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.incrementalloader.UserError;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scheduler's semantics, on a virtual clock: five minutes pass in no time. */
class SchedulerTest {
    private static final Instant START = Instant.parse("2026-01-01T10:01:00Z");

    /** A clock that only moves when the scheduler sleeps or a run takes time. */
    static final class VirtualTime extends Clock {
        Instant now = START;

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    final VirtualTime time = new VirtualTime();
    final List<Instant> runsAt = new ArrayList<>();

    /** Runs the scheduler until {@code runs} jobs have happened; each job's outcome and duration come from the queue. */
    void schedule(Schedule schedule, int runs, Deque<RunOutcome> outcomes, Duration runTakes) throws InterruptedException {
        schedule(schedule, runs, outcomes, runTakes, false);
    }

    void schedule(Schedule schedule, int runs, Deque<RunOutcome> outcomes, Duration runTakes, boolean startNow)
            throws InterruptedException {
        Scheduler[] scheduler = new Scheduler[1];
        scheduler[0] = new Scheduler(schedule, stopping -> () -> {
            runsAt.add(time.now);
            time.now = time.now.plus(runTakes);
            if (runsAt.size() == runs) {
                scheduler[0].stop();
            }
            return outcomes.isEmpty() ? RunOutcome.DONE : outcomes.poll();
        }, Duration.ofMinutes(1), time, (until, stopped) -> {
            if (stopped.getCount() == 0) {
                return false;
            }
            time.now = until.isAfter(time.now) ? until : time.now;
            return true;
        });
        scheduler[0].run(startNow);
    }

    /** serve's first run, at start, fails like any other and is retried like any other. */
    @Test
    void a_first_run_at_start_that_fails_is_retried_after_one_minute() throws InterruptedException {
        Deque<RunOutcome> outcomes = new ArrayDeque<>(List.of(RunOutcome.FAILED, RunOutcome.DONE, RunOutcome.DONE));
        schedule(Schedule.cron("*/5 * * * *", ZoneOffset.UTC), 3, outcomes, Duration.ZERO, true);
        assertEquals(List.of(START, START.plus(Duration.ofMinutes(1)), Instant.parse("2026-01-01T10:05:00Z")), runsAt);
    }

    @Test
    void by_default_a_run_comes_every_five_minutes_on_the_clock() throws InterruptedException {
        schedule(Schedule.cron("*/5 * * * *", ZoneOffset.UTC), 3, new ArrayDeque<>(), Duration.ofSeconds(2));
        assertEquals(List.of(Instant.parse("2026-01-01T10:05:00Z"), Instant.parse("2026-01-01T10:10:00Z"),
                Instant.parse("2026-01-01T10:15:00Z")), runsAt);
    }

    @Test
    void a_failed_run_is_retried_once_after_one_minute_and_then_waits_for_the_next_tick() throws InterruptedException {
        Deque<RunOutcome> outcomes = new ArrayDeque<>(List.of(RunOutcome.FAILED, RunOutcome.FAILED, RunOutcome.DONE));
        schedule(Schedule.cron("*/5 * * * *", ZoneOffset.UTC), 3, outcomes, Duration.ZERO);
        assertEquals(List.of(Instant.parse("2026-01-01T10:05:00Z"), Instant.parse("2026-01-01T10:06:00Z"),
                Instant.parse("2026-01-01T10:10:00Z")), runsAt);
    }

    @Test
    void a_successful_retry_is_not_retried_again() throws InterruptedException {
        Deque<RunOutcome> outcomes = new ArrayDeque<>(List.of(RunOutcome.FAILED, RunOutcome.DONE, RunOutcome.DONE));
        schedule(Schedule.cron("*/5 * * * *", ZoneOffset.UTC), 3, outcomes, Duration.ZERO);
        assertEquals(Instant.parse("2026-01-01T10:10:00Z"), runsAt.get(2));
    }

    @Test
    void ticks_missed_during_a_long_run_are_not_replayed() throws InterruptedException {
        schedule(Schedule.cron("*/5 * * * *", ZoneOffset.UTC), 2, new ArrayDeque<>(), Duration.ofMinutes(12));
        // The run of 10:05 lasts until 10:17: the ticks of 10:10 and 10:15 are gone, the next run is at 10:20.
        assertEquals(List.of(Instant.parse("2026-01-01T10:05:00Z"), Instant.parse("2026-01-01T10:20:00Z")), runsAt);
    }

    @Test
    void an_interval_schedule_runs_that_long_after_the_previous_run_ends() throws InterruptedException {
        schedule(Schedule.every(Duration.ofSeconds(1)), 3, new ArrayDeque<>(), Duration.ofMillis(500));
        assertEquals(List.of(START.plusSeconds(1), START.plusMillis(2500), START.plusMillis(4000)), runsAt);
    }

    @Test
    void stop_ends_the_wait_at_once() throws Exception {
        Scheduler scheduler = new Scheduler(Schedule.cron("0 0 1 1 *", ZoneOffset.UTC), stopping -> () -> RunOutcome.DONE,
                Duration.ofMinutes(1));
        Thread thread = new Thread(() -> {
            try {
                scheduler.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        thread.start();
        // Stopped only once it waits: a stop before the wait began would prove nothing about ending one.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (thread.getState() != Thread.State.TIMED_WAITING && thread.getState() != Thread.State.WAITING) {
            assertTrue(System.nanoTime() < deadline, "the scheduler never began to wait");
            Thread.sleep(10);
        }
        Thread.sleep(100);
        assertTrue(thread.isAlive(), "the scheduler waits for next new year");
        scheduler.stop();
        thread.join(2_000);
        assertTrue(!thread.isAlive(), "the scheduler still waits for next new year");
    }

    @Test
    void a_bad_cron_expression_or_duration_is_a_user_error() {
        assertThrows(UserError.class, () -> Schedule.cron("every five minutes", ZoneOffset.UTC));
        assertThrows(UserError.class, () -> Schedule.cron("*/5 * * *", ZoneOffset.UTC));
        assertThrows(UserError.class, () -> Schedule.parseDuration("soon", "--interval"));
        assertThrows(UserError.class, () -> Schedule.parseDuration("0s", "--interval"));
        assertEquals(Duration.ofMillis(1500), Schedule.parseDuration("PT1.5S", "--interval"));
        assertEquals(Duration.ofMinutes(5), Schedule.parseDuration("5m", "--interval"));
    }

}
