-- Producers only produce: whatever INSERT grant a producer holds, the whole table included, what it writes beside
-- the document cannot hide it from the loader or break the numbering of the landed rows.
-- - landed_xid must be the landing transaction's own id: a forged older one would put the document behind the
--   position, where no batch would ever take it.
-- - id must be the one the identity sequence just gave (OVERRIDING SYSTEM VALUE, or a COPY naming the column, could
--   set any): a forged id would collide with a later producer's row, or stand in another's place in the order.
-- Both hold for every row landed from now on, and make a landed row immutable (an UPDATE is checked too). NOT
-- VALID: rows landed before this migration were not checked and are not now. landed_at stays the producer's to set
-- (a backfill may keep the original landing time): it orders nothing.
alter table public.fake_json_request
    add constraint ck_fake_json_request_landed_xid check (landed_xid = pg_current_xact_id()) not valid,
    add constraint ck_fake_json_request_id check (id = currval('public.fake_json_request_id_seq'::regclass)) not valid;

-- currval in the check is evaluated as the producer: every producer must be able to read the sequence (SELECT
-- allows currval and reading its last value, not nextval or setval).
grant select on sequence public.fake_json_request_id_seq to public;
