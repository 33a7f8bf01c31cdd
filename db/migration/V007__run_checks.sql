-- The check after every run (verify.RunCheck in the service): what it needs to find a run's documents and rows by
-- key, where it keeps its verdicts, and which documents were changed by hand since, to check them again.

-- What each batch took and wrote, by key: the position before and after it, and the ranges of ids its child rows
-- were given. A run's check reads those ranges (index range scans) instead of the whole tables.
alter table test_mv.load_batches
    add column from_xid        xid8,
    add column from_request_id bigint,
    add column to_xid          xid8,
    add column to_request_id   bigint,
    add column phone_ids       int8range,
    add column address_ids     int8range,
    add column product_ids     int8range;

comment on column test_mv.load_batches.from_xid is
    'With from_request_id: the position the batch started after. It took the landed documents whose (landed_xid, id) '
    'lies past it, up to and with (to_xid, to_request_id). Null for batches loaded before version 7.';
comment on column test_mv.load_batches.to_xid is
    'With to_request_id: the position the batch left, the last document it took.';
comment on column test_mv.load_batches.phone_ids is
    'The range of phone_id the batch''s phones were given (null: none). Likewise address_ids and product_ids.';

-- One row a check: which batches and how many documents changed by hand it covered, what it found.
create table test_mv.run_checks (
    check_id          bigint      generated always as identity,
    checked_at        timestamptz not null default now(),
    caller            text        not null,
    first_batch_id    bigint,
    last_batch_id     bigint,
    changed_documents integer     not null,
    seconds           numeric     not null,
    verdict           text        not null,
    constraint pk_run_checks primary key (check_id)
);
comment on table test_mv.run_checks is
    'The checks load and serve run after each run: the batches first_batch_id to last_batch_id (null: the run took '
    'nothing) and the documents changed by hand since the last check; verdict is ''sound'' or the differences.';
-- status shows the last check that found differences: few, so a partial index finds it at any size.
create index ix_run_checks_unsound on test_mv.run_checks (check_id) where verdict <> 'sound';

-- Rows of the four tables changed by anything but the loader, which only inserts: an UPDATE, a DELETE or a
-- TRUNCATE, by hand or by a program. The next check takes those documents in again, so that a row broken after its
-- run is reported by the next load, not only by verify. Statement-level triggers with transition tables: one row a
-- changed document, and nothing at all for the loader's inserts.
create table test_mv.changed_documents (
    change_id  bigint      generated always as identity,
    client_id  bigint,
    table_name text        not null,
    operation  text        not null,
    changed_at timestamptz not null default now(),
    changed_by text        not null default current_user,
    constraint pk_changed_documents primary key (change_id)
);
comment on column test_mv.changed_documents.client_id is 'The document whose rows changed; null for a TRUNCATE.';

create function test_mv.note_changed_documents()
    returns trigger
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
as $$
begin
    if tg_op = 'TRUNCATE' then
        insert into test_mv.changed_documents (client_id, table_name, operation)
        values (null, tg_table_name, tg_op);
    elsif tg_op = 'UPDATE' then
        -- A row may have moved to another document: both are checked.
        insert into test_mv.changed_documents (client_id, table_name, operation)
        select o.client_id, tg_table_name, tg_op from old_rows o
         union
        select n.client_id, tg_table_name, tg_op from new_rows n;
    else
        insert into test_mv.changed_documents (client_id, table_name, operation)
        select distinct o.client_id, tg_table_name, tg_op from old_rows o;
    end if;
    return null;
end
$$;
revoke all on function test_mv.note_changed_documents() from public;

do $$
declare
    v_table text;
begin
    foreach v_table in array array['clients', 'phones', 'addresses', 'products'] loop
        execute format('create trigger tr_%1$s_updated after update on test_mv.%1$I'
                       ' referencing old table as old_rows new table as new_rows'
                       ' for each statement execute function test_mv.note_changed_documents()', v_table);
        execute format('create trigger tr_%1$s_deleted after delete on test_mv.%1$I'
                       ' referencing old table as old_rows'
                       ' for each statement execute function test_mv.note_changed_documents()', v_table);
        execute format('create trigger tr_%1$s_truncated after truncate on test_mv.%1$I'
                       ' for each statement execute function test_mv.note_changed_documents()', v_table);
    end loop;
end
$$;
