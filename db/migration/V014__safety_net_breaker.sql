-- A circuit breaker for the safety net (write_batch). When something that is not the documents makes every batch
-- fail (a DBA's wrong CHECK constraint, a broken trigger, a privilege taken away), the safety net isolated and
-- rejected every document, one by one: a day's data went to load_errors and the runs reported success. Now the
-- loader counts the documents its safety net rejected in a row for the same error (its SQLSTATE and message, numbers
-- masked) with no document loaded since, across the lanes, and once the count reaches the limit, a batch that would
-- reject another fails instead, leaving it and the rest pending. Validation rejections (the specification's rules)
-- are not the safety net's and never count.
alter table test_mv.load_control
    add column safety_net_limit integer default 20,
    add column safety_net_streak integer not null default 0,
    add column safety_net_error text,
    add column safety_net_batch_id bigint,
    add constraint ck_load_control_safety_net_limit check (safety_net_limit > 0);
comment on column test_mv.load_control.safety_net_limit is
    'How many documents the safety net may reject in a row for one error, with no document loaded meanwhile, before '
    'loading stops with that error; null: no limit.';
comment on column test_mv.load_control.safety_net_streak is
    'Documents the safety net rejected in a row for safety_net_error, the last in batch safety_net_batch_id.';
