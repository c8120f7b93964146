-- Change notifications for the API read cache (api/read-cache.ts, platform/db/change-feed.ts): after
-- every statement that writes one of these tables, the table's name is sent on channel om_change.
-- PostgreSQL delivers it at commit (never for a rolled-back transaction) to every instance that
-- listens, and collapses repeats of the same name within one transaction.
CREATE OR REPLACE FUNCTION om_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('om_change', TG_TABLE_NAME);
  RETURN NULL;
END
$$;

-- Ingest records every asset's last-seen time once a second; an update that changes nothing else is
-- 'asset_activity', so what only shows asset codes (work orders) is not invalidated every second.
CREATE OR REPLACE FUNCTION om_notify_asset_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id AND (to_jsonb(o) - 'last_seen_at') = (to_jsonb(n) - 'last_seen_at'))
  ) THEN
    PERFORM pg_notify('om_change', 'assets');
  ELSIF EXISTS (SELECT 1 FROM new_rows) THEN
    PERFORM pg_notify('om_change', 'asset_activity');
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER om_change_sites AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sites FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change();
CREATE TRIGGER om_change_areas AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON areas FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change();
CREATE TRIGGER om_change_assets AFTER INSERT OR DELETE OR TRUNCATE ON assets FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change();
CREATE TRIGGER om_change_assets_update AFTER UPDATE ON assets REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION om_notify_asset_update();
CREATE TRIGGER om_change_meters AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON meters FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change();
CREATE TRIGGER om_change_asset_downtimes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON asset_downtimes FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change();
CREATE TRIGGER om_change_alarms AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alarms FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change();
CREATE TRIGGER om_change_work_orders AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON work_orders FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change();
CREATE TRIGGER om_change_work_order_events AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON work_order_events FOR EACH STATEMENT EXECUTE FUNCTION om_notify_change();
