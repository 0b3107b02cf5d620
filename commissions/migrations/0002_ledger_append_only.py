"""Make the ledger append-only at the database: UPDATE and DELETE of a ledger line raise,
whoever asks (the ORM or raw SQL). Corrections are new reversal lines (SPEC 7)."""

from __future__ import annotations

from django.db import migrations

FORWARD = """
CREATE FUNCTION commissions_ledgerline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'commissions_ledgerline is append-only (% refused): correct a line with a reversal', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER commissions_ledgerline_append_only
    BEFORE UPDATE OR DELETE ON commissions_ledgerline
    FOR EACH ROW EXECUTE FUNCTION commissions_ledgerline_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS commissions_ledgerline_append_only ON commissions_ledgerline;
DROP FUNCTION IF EXISTS commissions_ledgerline_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("commissions", "0001_entitlements_ledger_runs_upmarket_rule_sets")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
