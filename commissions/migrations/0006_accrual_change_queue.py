"""What the accrual run must look at again: every change to an input of the ledger is noted,
by the database, in `commissions_accrualchange` (issue 12, "Scale").

A month's run then accrues that month for every entitlement and re-examines earlier months
only for the entitlements whose inputs changed since the last finished run, instead of
recomputing every month of every entitlement. The inputs, and what a change notes:

- a line's billing (`core_subscriptionversion` inserted, updated or deleted; a subscription
  moved to another customer or product line): the subscription;
- a partner's losses of revenue share (`core_revenuesharestop` inserted, updated, deleted):
  the partner;
- an entitlement inserted or updated: the entitlement.

Statement-level triggers with transition tables note each subscription, partner or
entitlement once per statement, whoever writes (the ORM, a billing import, raw SQL). The run
claims the notes at its start and deletes them when it finishes (services/accrual.py); a run
that dies leaves them for the next one. Every entitlement that exists when this migration runs
is noted once (runs before it recomputed everything, so changes since the last one were not
noted). The table has no Django model: only the run and these
triggers use it, through SQL.
"""

from __future__ import annotations

from django.db import migrations

TRIGGERS = [
    # (table, function, noted column, expression over the transition table's rows, events)
    ("core_subscriptionversion", "billing", "subscription_id", "subscription_id",
     ("INSERT", "UPDATE", "DELETE")),
    ("core_subscription", "subscription", "subscription_id", "id", ("UPDATE",)),
    ("core_revenuesharestop", "stop", "organisation_id", "organisation_id",
     ("INSERT", "UPDATE", "DELETE")),
    ("commissions_entitlement", "entitlement", "entitlement_id", "id", ("INSERT", "UPDATE")),
]  # fmt: skip


def _forward() -> str:
    sql = [
        """
CREATE TABLE commissions_accrualchange (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id bigint,
    organisation_id bigint,
    entitlement_id bigint,
    -- the accrual run that claimed the note (NULL: noted since the last run started)
    run_id bigint,
    CONSTRAINT accrualchange_one_subject CHECK (
        num_nonnulls(subscription_id, organisation_id, entitlement_id) = 1)
);
CREATE INDEX accrualchange_run ON commissions_accrualchange (run_id);
-- Runs before this migration recomputed everything; billing changed since the last of them
-- was not noted: the first run after it examines every entitlement once.
INSERT INTO commissions_accrualchange (entitlement_id) SELECT id FROM commissions_entitlement;
"""
    ]
    for table, name, column, expression, events in TRIGGERS:
        sql.append(
            f"""
CREATE FUNCTION commissions_note_{name}_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO commissions_accrualchange ({column})
        SELECT DISTINCT {expression} FROM old_rows;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO commissions_accrualchange ({column})
        SELECT DISTINCT {expression} FROM new_rows
        EXCEPT SELECT {expression} FROM old_rows;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO commissions_accrualchange ({column})
        SELECT DISTINCT {expression} FROM new_rows;
    END IF;
    RETURN NULL;
END;
$$;
"""  # noqa: S608  (constant table and column names)
        )
        for event in events:
            tables = {
                "INSERT": "NEW TABLE AS new_rows",
                "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "DELETE": "OLD TABLE AS old_rows",
            }[event]
            sql.append(
                f"CREATE TRIGGER commissions_note_{name}_{event.lower()} AFTER {event} ON {table}"
                f" REFERENCING {tables} FOR EACH STATEMENT"
                f" EXECUTE FUNCTION commissions_note_{name}_change();"
            )
    return "\n".join(sql)


def _backward() -> str:
    sql = []
    for table, name, _column, _expression, events in TRIGGERS:
        for event in events:
            sql.append(
                f"DROP TRIGGER IF EXISTS commissions_note_{name}_{event.lower()} ON {table};"
            )
        sql.append(f"DROP FUNCTION IF EXISTS commissions_note_{name}_change();")
    sql.append("DROP TABLE IF EXISTS commissions_accrualchange;")
    return "\n".join(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("commissions", "0005_statements_immutable"),
        ("core", "0005_revenue_share_stops"),
    ]
    operations = [migrations.RunSQL(_forward(), _backward())]
