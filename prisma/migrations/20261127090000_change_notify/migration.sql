-- Change notifications for the API read cache (api/read-cache.ts, platform/db/change-feed.ts): after
-- every statement that changes rows of these tables, a message on channel om_change:
--   '<table>|<key>,<key>,…'  the rows changed, by the key the cache tracks them under (TG_ARGV[0]:
--                            the row id, or the id of the parent it belongs to); at most 100 keys
--   '<table>'                too many rows, or TRUNCATE: treat every row as changed
-- PostgreSQL delivers them at commit (never for a rolled-back transaction), in commit order, to every
-- instance that listens; a statement that changes no row sends nothing.
CREATE OR REPLACE FUNCTION om_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
  key_count bigint;
  key_list text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('om_change', TG_TABLE_NAME);
    RETURN NULL;
  END IF;
  EXECUTE format(
    'SELECT count(*), count(DISTINCT k), string_agg(DISTINCT k, '','') FROM (%s) changed_rows',
    CASE TG_OP
      WHEN 'INSERT' THEN format('SELECT %I::text AS k FROM new_rows', TG_ARGV[0])
      WHEN 'DELETE' THEN format('SELECT %I::text AS k FROM old_rows', TG_ARGV[0])
      ELSE format('SELECT %1$I::text AS k FROM new_rows UNION ALL SELECT %1$I::text FROM old_rows', TG_ARGV[0])
    END)
    INTO changed, key_count, key_list;
  IF changed = 0 THEN
    RETURN NULL;
  END IF;
  PERFORM pg_notify('om_change', TG_TABLE_NAME || CASE WHEN key_count <= 100 THEN '|' || coalesce(key_list, '') ELSE '' END);
  RETURN NULL;
END
$$;

-- Ingest records every asset's last-seen time once a second. An asset update that changes nothing
-- else is sent as 'asset_activity' (always for the whole table), so what shows asset codes but not
-- last-seen times (work orders) is not invalidated every second.
CREATE OR REPLACE FUNCTION om_notify_asset_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  key_count bigint;
  key_list text;
BEGIN
  SELECT count(DISTINCT k), string_agg(DISTINCT k, ',') INTO key_count, key_list FROM (
    SELECT n.id AS k FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id AND (to_jsonb(o) - 'last_seen_at') = (to_jsonb(n) - 'last_seen_at'))
    UNION ALL
    SELECT o.id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id)
  ) changed_rows;
  IF key_count > 0 THEN
    PERFORM pg_notify('om_change', 'assets' || CASE WHEN key_count <= 100 THEN '|' || key_list ELSE '' END);
  ELSIF EXISTS (SELECT 1 FROM new_rows) THEN
    PERFORM pg_notify('om_change', 'asset_activity');
  END IF;
  RETURN NULL;
END
$$;

-- one trigger per event: a trigger with transition tables may only have one
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
      ('sites', 'id'), ('areas', 'id'), ('assets', 'id'), ('meters', 'asset_id'), ('asset_downtimes', 'asset_id'),
      ('alarms', 'work_order_id'), ('work_orders', 'id'), ('work_order_events', 'work_order_id')
    ) AS v(tbl, key_column)
  LOOP
    EXECUTE format('CREATE TRIGGER om_change_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change(%L)', t.tbl, t.key_column);
    EXECUTE format('CREATE TRIGGER om_change_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change(%L)', t.tbl, t.key_column);
    EXECUTE format('CREATE TRIGGER om_change_truncate AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change(%L)', t.tbl, t.key_column);
    IF t.tbl = 'assets' THEN
      CREATE TRIGGER om_change_update AFTER UPDATE ON assets REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION om_notify_asset_update();
    ELSE
      EXECUTE format('CREATE TRIGGER om_change_update AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change(%L)', t.tbl, t.key_column);
    END IF;
  END LOOP;
END
$$;
