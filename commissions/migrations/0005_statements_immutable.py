"""A closed quarter never changes (SPEC 7): at the database, statement lines and quarter
closes refuse UPDATE and DELETE, and a statement refuses DELETE and any UPDATE that touches
what it says is owed (partner, quarter, currency, amounts, payable date, close). Only its
status moves (held -> payable -> paid, with the release time, payment date and reference)."""

from __future__ import annotations

from django.db import migrations

FORWARD = """
CREATE FUNCTION commissions_closed_quarter_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is immutable once the quarter is closed (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER commissions_statementline_immutable
    BEFORE UPDATE OR DELETE ON commissions_statementline
    FOR EACH ROW EXECUTE FUNCTION commissions_closed_quarter_immutable();
CREATE TRIGGER commissions_quarterclose_immutable
    BEFORE DELETE ON commissions_quarterclose
    FOR EACH ROW EXECUTE FUNCTION commissions_closed_quarter_immutable();
CREATE TRIGGER commissions_statement_no_delete
    BEFORE DELETE ON commissions_statement
    FOR EACH ROW EXECUTE FUNCTION commissions_closed_quarter_immutable();

CREATE FUNCTION commissions_statement_amounts_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.organisation_id, NEW.quarter, NEW.currency_id, NEW.total, NEW.prior_period_total,
        NEW.payable_on, NEW.close_id, NEW.created_at)
       IS DISTINCT FROM
       (OLD.organisation_id, OLD.quarter, OLD.currency_id, OLD.total, OLD.prior_period_total,
        OLD.payable_on, OLD.close_id, OLD.created_at) THEN
        RAISE EXCEPTION 'a statement''s amounts never change once its quarter is closed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER commissions_statement_amounts_fixed
    BEFORE UPDATE ON commissions_statement
    FOR EACH ROW EXECUTE FUNCTION commissions_statement_amounts_fixed();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS commissions_statement_amounts_fixed ON commissions_statement;
DROP FUNCTION IF EXISTS commissions_statement_amounts_fixed();
DROP TRIGGER IF EXISTS commissions_statement_no_delete ON commissions_statement;
DROP TRIGGER IF EXISTS commissions_quarterclose_immutable ON commissions_quarterclose;
DROP TRIGGER IF EXISTS commissions_statementline_immutable ON commissions_statementline;
DROP FUNCTION IF EXISTS commissions_closed_quarter_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("commissions", "0004_quarter_closes_statements")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
