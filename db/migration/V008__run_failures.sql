-- Failed runs leave a trace: a failed batch rolls back and leaves nothing, so the service records each failed run
-- afterwards, in a transaction of its own (test_mv.record_run_failure), and each run that succeeds clears the
-- count of consecutive failures (test_mv.record_run_success). status shows both.

create table test_mv.failed_runs (
    failure_id bigint      generated always as identity,
    failed_at  timestamptz not null default now(),
    caller     text        not null,
    sqlstate   text,
    message    text        not null,
    constraint pk_failed_runs primary key (failure_id)
);
comment on table test_mv.failed_runs is
    'One row a failed run of load or serve: when, which caller (application_name and pid), the error''s SQLSTATE '
    '(null when the failure was not the database''s) and its message.';

-- One row: how the runs go. Apart from load_metadata, whose row a running batch holds locked: a failure must be
-- recorded even while another session holds the position.
create table test_mv.run_health (
    id                   integer     not null default 1,
    consecutive_failures integer     not null default 0,
    last_failure_id      bigint,
    last_success_at      timestamptz,
    constraint pk_run_health primary key (id),
    constraint ck_run_health_one_row check (id = 1)
);
insert into test_mv.run_health default values;
