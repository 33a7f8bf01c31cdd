-- Rejections one can survey: each rejection's rule, a stable code beside its full reason, so that rejections can be
-- counted and chosen by rule (the reasons embed array indexes and product names: a thousand rejections had
-- eighteen different reasons for four rules). The `rejections` command reads the view.

-- rejection_rule(reason): the rule a reason names. For the specification's rules, the field, indexes and product
-- names left out ("addresses[1].date: ..." is addresses.date, "products.product_cnt.pen: ..." products.product_cnt);
-- safety_net.SQLSTATE for a document that made its batch fail; by_hand for a rejection by hand;
-- duplicate_of_rejected for the twin of a document rejected after it was loaded.
create or replace function test_mv.rejection_rule(p_reason text)
    returns text
    language sql immutable parallel safe strict
    set search_path = pg_catalog, pg_temp
as $$
    select case
               when p_reason like 'the batch failed on this document: %' then 'safety_net.' || substr(p_reason, 36, 5)
               when p_reason like 'rejected by hand by %' then 'by_hand'
               when p_reason like 'a duplicate of document %, which is rejected: %' then 'duplicate_of_rejected'
               when p_reason ~ '^products\.product_(cnt|cost)\.'
                   then substring(p_reason from '^(products\.product_(?:cnt|cost))\.')
               else regexp_replace(split_part(p_reason, ': ', 1), '\[[0-9]+\]', '', 'g')
           end
$$;

create or replace view test_mv.rejections as
select e.request_id, test_mv.rejection_rule(e.reason) as rule, e.reason, e.rejected_at, e.batch_id, e.json_data
  from test_mv.load_errors e;
comment on view test_mv.rejections is
    'load_errors with each rejection''s rule (rejection_rule): a stable code to count and choose rejections by.';
