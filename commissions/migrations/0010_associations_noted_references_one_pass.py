"""Two costs of a month's accrual at the vendor's scale that did not depend on what changed
(issue 12, "Scale"; docs/PERFORMANCE.md):

- **Deriving missing entitlements** compared every sold association with every entitlement
  at each run. An association written now notes itself in `commissions_accrualchange`
  (new column `association_id`, a statement trigger on `deals_soldassociation`, which is
  never updated or deleted), and the run derives from the noted ones only, deleting the notes
  it read in the same transaction (services/accrual.py, `DERIVE_SQL`). The associations that
  exist without an entitlement when this migration runs are noted once here.
- **The ledger's reference check** (`commissions_ledgerline_references`, migration 0009) read
  the statement's lines three times and checked each line's entitlement by one index lookup
  per line (`LIMIT 1` led the planner to it). It now reads them once for the entitlement,
  the partner and the reversed or replaced line, as an aggregate (a hash join over a month's
  lines, index lookups for a few), planned for each statement's own size (`EXECUTE`: a plan
  cached for a one-line statement is not reused for a month's lines); the currencies and
  runs, and their locks, are as before. The same lines are refused, with the same messages.
"""

from __future__ import annotations

import re
from importlib import import_module

from django.db import migrations

_PREVIOUS = import_module("commissions.migrations.0009_ledger_references_checked_per_statement")

REFERENCES = r"""
CREATE OR REPLACE FUNCTION commissions_ledgerline_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    currencies varchar[];
    runs bigint[];
    locked bigint;
    bad bigint;
BEGIN
    -- Entitlements and partners are kept from being deleted meanwhile by the accrual's
    -- advisory lock, currencies and runs by row locks: see migration 0009.
    PERFORM pg_advisory_xact_lock_shared(7202607);
    -- One pass: the entitlement exists and the line's partner is the entitlement's; a
    -- reversal or replacement names a line of the same entitlement and month (ledger lines
    -- are never deleted: nothing to lock). Dynamic SQL: planned for this statement's number
    -- of lines.
    EXECUTE $q$
        SELECT min(n.id) FROM new_lines n
        LEFT JOIN commissions_entitlement e
          ON e.id = n.entitlement_id AND e.organisation_id = n.organisation_id
        WHERE e.id IS NULL
           OR (n.reverses_id IS NOT NULL AND NOT EXISTS (
                   SELECT 1 FROM commissions_ledgerline l
                   WHERE l.id = n.reverses_id AND l.entitlement_id = n.entitlement_id
                     AND l.month = n.month))
           OR (n.replaces_id IS NOT NULL AND NOT EXISTS (
                   SELECT 1 FROM commissions_ledgerline l
                   WHERE l.id = n.replaces_id AND l.entitlement_id = n.entitlement_id
                     AND l.month = n.month))
    $q$ INTO bad;
    IF bad IS NOT NULL THEN
        IF NOT EXISTS (
            SELECT 1 FROM new_lines n JOIN commissions_entitlement e
              ON e.id = n.entitlement_id AND e.organisation_id = n.organisation_id
            WHERE n.id = bad
        ) THEN
            RAISE EXCEPTION 'ledger line %: its entitlement does not exist or is not its partner''s', bad
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        RAISE EXCEPTION 'ledger line %: the line it reverses or replaces is not a line of its entitlement and month', bad
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- The statement's currencies and runs, in one pass (a handful of values), locked FOR KEY
    -- SHARE until commit as a foreign key would.
    SELECT array_agg(DISTINCT d.currency_id), array_agg(DISTINCT d.run_id)
    INTO currencies, runs
    FROM (SELECT currency_id, run_id FROM new_lines GROUP BY currency_id, run_id) d;
    SELECT count(*) INTO locked
    FROM (SELECT 1 FROM core_currency p WHERE p.code = ANY(currencies) FOR KEY SHARE) x;
    IF locked < cardinality(currencies) THEN
        SELECT n.id INTO bad FROM new_lines n
        WHERE NOT EXISTS (SELECT 1 FROM core_currency p WHERE p.code = n.currency_id) LIMIT 1;
        RAISE EXCEPTION 'ledger line %: its currency does not exist', bad
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT count(*) INTO locked
    FROM (SELECT 1 FROM commissions_accrualrun p WHERE p.id = ANY(runs) FOR KEY SHARE) x;
    IF locked < cardinality(runs) THEN
        SELECT n.id INTO bad FROM new_lines n
        WHERE NOT EXISTS (SELECT 1 FROM commissions_accrualrun p WHERE p.id = n.run_id)
        LIMIT 1;
        RAISE EXCEPTION 'ledger line %: its accrual run does not exist', bad
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;
"""


def _previous_references() -> str:
    """Migration 0009's definition of the function, to go back to."""
    found = re.search(
        r"CREATE FUNCTION commissions_ledgerline_references\(\).*?\n\$\$;\n",
        _PREVIOUS.FORWARD,
        re.DOTALL,
    )
    if found is None:
        raise RuntimeError("migration 0009 no longer defines commissions_ledgerline_references()")
    return found.group(0).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


ASSOCIATIONS = """
ALTER TABLE commissions_accrualchange ADD COLUMN association_id bigint;
ALTER TABLE commissions_accrualchange DROP CONSTRAINT accrualchange_one_subject;
ALTER TABLE commissions_accrualchange ADD CONSTRAINT accrualchange_one_subject CHECK (
    num_nonnulls(subscription_id, organisation_id, entitlement_id, association_id) = 1);
CREATE FUNCTION commissions_note_association() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO commissions_accrualchange (association_id) SELECT id FROM new_rows;
    RETURN NULL;
END;
$$;
CREATE TRIGGER commissions_note_association_insert AFTER INSERT ON deals_soldassociation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION commissions_note_association();
-- Associations written before: those without an entitlement are looked at by the next run.
INSERT INTO commissions_accrualchange (association_id)
SELECT a.id FROM deals_soldassociation a
WHERE NOT EXISTS (SELECT 1 FROM commissions_entitlement e WHERE e.association_id = a.id);
"""

ASSOCIATIONS_BACKWARD = """
DROP TRIGGER IF EXISTS commissions_note_association_insert ON deals_soldassociation;
DROP FUNCTION IF EXISTS commissions_note_association();
DELETE FROM commissions_accrualchange WHERE association_id IS NOT NULL;
ALTER TABLE commissions_accrualchange DROP CONSTRAINT accrualchange_one_subject;
ALTER TABLE commissions_accrualchange DROP COLUMN association_id;
ALTER TABLE commissions_accrualchange ADD CONSTRAINT accrualchange_one_subject CHECK (
    num_nonnulls(subscription_id, organisation_id, entitlement_id) = 1);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("commissions", "0009_ledger_references_checked_per_statement"),
        ("deals", "0005_registration_org_newest_index"),
    ]

    operations = [
        migrations.RunSQL(ASSOCIATIONS, ASSOCIATIONS_BACKWARD),
        migrations.RunSQL(REFERENCES, _previous_references()),
    ]
