-- The check after a run forgets only what it checked. record_run_check deleted every change up to the largest id
-- its check saw: a change whose transaction took a lower id but committed after the check's snapshot was deleted
-- unseen, and only a full verify would find it. Now each change records its transaction, the check passes the
-- snapshot it read, and only the changes visible in that snapshot are marked as checked by it. They are marked, not
-- deleted: the record of edits stays (prune_landing's history cutoff removes checked ones), so the role that loads,
-- which may call record_run_check, cannot erase an edit it did not check.
alter table test_mv.changed_documents
    add column changed_xid xid8 default pg_current_xact_id(),
    add column checked_by bigint;
comment on column test_mv.changed_documents.checked_by is
    'The check (test_mv.run_checks) that took this change in; null while no check has.';
create index ix_changed_documents_unchecked on test_mv.changed_documents (change_id) where checked_by is null;
