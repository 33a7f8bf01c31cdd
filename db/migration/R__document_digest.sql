-- document_digest(document): the SHA-256 of a canonical text of a document, the same for documents equal as jsonb
-- and, short of breaking SHA-256, different for any others; what decides a twin of a loaded document whose landing
-- row is gone (V012).
-- The canonical text is the jsonb text form (keys sorted and unique, one spelling of every string, numbers without
-- an exponent), with every number's trailing fractional zeros removed, since jsonb compares numbers by value:
-- 1, 1.0, 1.00 and 1e0 print 1, 1.0, 1.00 and 1, and are one number. The regular expression skips every string
-- whole (its first branch, kept as it is), so that "1.0" inside a string or a key stays as written; outside
-- strings the text form has only punctuation, literals and numbers, so a dot is always a number's.
-- Called only when a key matches a document whose landing row is gone, and when such a row is removed: never on a
-- batch's usual path. Never raises on a loadable document (its text form fits: text_form_fits).
-- The regular expression costs ten times the rest (its alternation is matched by backtracking): it runs only on a
-- text where a trailing fractional zero occurs at all, which a plain match, far cheaper, tells; elsewhere the text
-- form is canonical already (docs/profiling.md).
create or replace function test_mv.document_digest(p_document jsonb)
    returns bytea
    language sql immutable parallel safe strict
    set search_path = pg_catalog, pg_temp
as $$
    select sha256(convert_to(case when d.text ~ '\.[0-9]*0(?![0-9])'
                                  then regexp_replace(d.text,
                                                      '("(?:[^"\\]|\\.)*")|(\.[0-9]*[1-9])0+(?![0-9])|\.0+(?![0-9])',
                                                      '\1\2', 'g')
                                  else d.text end,
                             'UTF8'))
      from (select p_document::text as text) d
$$;
