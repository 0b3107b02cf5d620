"""Generate a partner program at the vendor's scale, set-based, into a bench database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pp_bench python -m bench.generate \\
        --partners 10000 --customers 250000 --versions 1000000 --associations 400000 \\
        --activities 2000000 --months 24 [--seed N] [--small]

Every table is filled by a handful of `INSERT ... SELECT ... FROM generate_series(...)`
statements; no row is built in Python. "Random" values are hashes of a row's number and the
seed (`hashint8extended`), so a seed always gives the same data and one statement can
recompute what another chose (a customer's owning partner, a subscription's start date)
without a lookup table.

What it builds, for the months ending with `--through` (default November 2026):

- partners (plus a few providers, whom the run must ignore), sized unevenly: customer `c`
  "belongs" to partner `1 + floor(P * u(c)^2)`, so low-numbered partners are large agencies
  and the tail is small, which spreads the partners over every tier; partners start in every
  tier (about half untiered), and those starting Elite hold an Elite invitation;
- customers in 60 countries (about half of them in growth markets), billed in their
  country's currency when it is one of the 9 and otherwise mostly in USD or EUR;
- subscriptions (one per customer and product line) whose versions never overlap: upgrades
  (so year-over-year growth exists), downgrades, flat lines, some terminated, some first
  versions free, a few lines re-billed in USD part-way (cross-currency comparisons);
- sold associations on a subset of those lines, with a minimal won deal and approved
  registration behind each, sourced or assisted, mostly held by the customer's partner;
- activities of every kind (login, asset created or edited, settings changed) spread
  evenly over the months, mostly by the customer's partner, some by others and providers;
- revenue-share entitlements (commissions, SPEC 7), one per sold association: Partner Sourced
  for the sourced ones (36 months; 12 for a provider), Upmarket Referral (12 months) for
  every assisted one. The program would give an Upmarket Referral to far fewer assisted
  deals (Platinum+, CRM Implementation, USD 3 000 of Professional/Enterprise MRR); every one
  is taken here so the accrual is timed at the issue's 400 000 entitlements.
  `--only-entitlements` rebuilds just these (and empties the ledger) on a generated program.

It first empties the program tables (TRUNCATE ... CASCADE, which also empties users and the
audit trail) and refuses to do that unless the database name starts with `pp_bench` or
`--i-know` is given. Reference data (countries, currencies, product lines, rule sets) is
read, never written.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from bench.db import require_bench_database, setup_django

#: 60 countries, largest market first (customers are drawn with a skew towards the front).
COUNTRIES = [
    "US", "GB", "DE", "AU", "CA", "FR", "NL", "JP", "BR", "MX",
    "IN", "ES", "IT", "SG", "ZA", "CO", "IE", "SE", "DK", "NO",
    "FI", "BE", "CH", "AT", "NZ", "PT", "LU", "SA", "AE", "IL",
    "TR", "PL", "CZ", "HU", "RO", "GR", "UA", "CN", "HK", "TW",
    "KR", "MY", "TH", "ID", "PH", "VN", "NG", "KE", "EG", "GH",
    "AR", "CL", "PE", "UY", "CR", "PA", "DO", "PR", "EC", "BO",
]  # fmt: skip
#: The currency a customer in these countries is usually billed in; elsewhere USD.
NATIONAL_CURRENCY = {
    "CA": "CAD", "GB": "GBP", "AU": "AUD", "SG": "SGD", "JP": "JPY", "ZA": "ZAR", "CO": "COP",
    **{c: "EUR" for c in ("DE", "FR", "NL", "ES", "IT", "IE", "FI", "BE", "AT", "PT", "LU",
                          "GR")},
}  # fmt: skip
#: Currencies without minor units in practice: their MRR is billed in whole units.
WHOLE_UNIT_CURRENCIES = ("JPY", "COP")

#: Tables emptied before generating (CASCADE reaches whatever references them).
WIPED_TABLES = [
    "tiers_tierassessmentlines",
    "tiers_tierassessment",
    "deals_soldassociation",
    "deals_registration",
    "deals_deal",
    "core_activity",
    "core_subscriptionversion",
    "core_subscription",
    "core_customer",
    "core_auditevent",
    "tiers_eliteinvitation",
    "core_organisation",
    "core_user",
]

#: Commissions tables emptied before generating entitlements (those that exist: a bench
#: database may predate a migration), after the program tables' CASCADE reached the rest.
COMMISSIONS_TABLES = [
    "commissions_statementline",
    "commissions_statement",
    "commissions_quarterclose",
    "commissions_ledgerline",
    "commissions_accrualrun",
    "commissions_entitlement",
    "commissions_accrualchange",
]

#: Where the generator records what it built (read by `bench.retier` for the report).
META_TABLE = "bench_meta"

#: The system user who "created" the generated registrations.
BENCH_USER_EMAIL = "bench-system@bench.example"


@dataclass(frozen=True)
class Sizes:
    partners: int = 10_000
    providers: int = 100
    customers: int = 250_000
    #: Subscription lines; by default 3/5 of the versions (at least 5/4 of the associations).
    subscriptions: int | None = None
    versions: int = 1_000_000
    associations: int = 400_000
    activities: int = 2_000_000
    months: int = 24
    #: The last month the data covers (its first day).
    through: date = date(2026, 11, 1)
    seed: int = 1

    @property
    def subscription_lines(self) -> int:
        if self.subscriptions is not None:
            return self.subscriptions
        wanted = max(self.associations + self.associations // 4, self.versions * 3 // 5)
        return min(wanted, self.versions)


SMALL = Sizes(
    partners=200,
    providers=5,
    customers=5_000,
    versions=20_000,
    associations=8_000,
    activities=40_000,
)


def _validate(sizes: Sizes, *, product_lines: int) -> None:
    subs = sizes.subscription_lines
    problems = []
    if min(sizes.partners, sizes.customers, sizes.versions, sizes.months) < 1:
        problems.append("partners, customers, versions and months must be positive")
    if min(sizes.providers, sizes.associations, sizes.activities) < 0:
        problems.append("providers, associations and activities cannot be negative")
    if not sizes.associations <= subs <= sizes.versions:
        problems.append(
            f"need associations <= subscriptions <= versions ({sizes.associations}, "
            f"{subs}, {sizes.versions})"
        )
    if subs > product_lines * sizes.customers:
        problems.append(
            f"{subs} subscriptions do not fit {sizes.customers} customers x "
            f"{product_lines} product lines"
        )
    if sizes.versions // max(subs, 1) >= 500:
        problems.append("at most 500 versions per subscription")
    if problems:
        raise ValueError("; ".join(problems))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _coprime(near: int, modulus: int) -> int:
    """Return a multiplier coprime to `modulus`, so `i * m % modulus` permutes 0..modulus-1."""
    m = near
    while math.gcd(m, modulus) != 1:
        m += 1
    return m


class _Sql:
    """SQL fragments shared by the statements, so each can recompute the others' choices."""

    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self.salt_base = sizes.seed * 1009

    def u(self, key: str, salt: int) -> str:
        """A uniform float in [0, 1) determined by `key` (a bigint expression) and `salt`."""
        return (
            f"((hashint8extended(({key})::bigint, {self.salt_base + salt}) & 2147483647)"
            "::float8 / 2147483648.0)"
        )

    def owner(self, customer: str) -> str:
        """The partner whose book the customer is in (skewed towards low partner ids)."""
        return f"(1 + floor({self.sizes.partners} * power({self.u(customer, 3)}, 2))::bigint)"

    def country_index(self, customer: str) -> str:
        n = len(COUNTRIES)
        return f"least({n}, 1 + floor({n} * power({self.u(customer, 2)}, 1.6))::int)"

    def customer_currency(self, customer: str) -> str:
        return (
            f"CASE WHEN {self.u(customer, 4)} < 0.85 "
            f"THEN (%(natural)s::varchar[])[{self.country_index(customer)}] "
            f"ELSE (%(currencies)s::varchar[])[1 + floor(9 * {self.u(customer, 5)})::int] END"
        )


def _params(sizes: Sizes) -> dict[str, Any]:
    start = _add_months(sizes.through, -(sizes.months - 1))
    end = _add_months(sizes.through, 1)
    return {
        "start": start,
        "end": end,
        "days": (end - start).days,
        "countries": COUNTRIES,
        "natural": [NATIONAL_CURRENCY.get(c, "USD") for c in COUNTRIES],
        "currencies": ["USD", "EUR", "GBP", "AUD", "CAD", "SGD", "JPY", "ZAR", "COP"],
        "whole_units": list(WHOLE_UNIT_CURRENCIES),
    }


def _organisations_sql(q: _Sql) -> str:
    s = q.sizes
    return f"""
INSERT INTO core_organisation (id, name, kind, country_id, tier, standing,
    has_partner_certification, has_pro_subscription, payout_paperwork_complete, pdm_id,
    created_at)
SELECT g, 'Bench partner ' || g, 'partner',
       (%(countries)s::varchar[])[1 + floor({len(COUNTRIES)} * {q.u("g", 101)})::int],
       CASE WHEN {q.u("g", 102)} < 0.55 THEN 'untiered'
            WHEN {q.u("g", 102)} < 0.80 THEN 'gold'
            WHEN {q.u("g", 102)} < 0.92 THEN 'platinum'
            WHEN {q.u("g", 102)} < 0.98 THEN 'diamond'
            ELSE 'elite' END,
       'good', {q.u("g", 103)} < 0.92, {q.u("g", 104)} < 0.85, TRUE, NULL::bigint,
       %(start)s::timestamptz - interval '400 days'
FROM generate_series(1, {s.partners}) g
UNION ALL
SELECT g, 'Bench provider ' || g, 'provider',
       (%(countries)s::varchar[])[1 + floor({len(COUNTRIES)} * {q.u("g", 101)})::int],
       'untiered', 'good', TRUE, TRUE, TRUE, NULL, %(start)s::timestamptz - interval '400 days'
FROM generate_series({s.partners + 1}, {s.partners + s.providers}) g
"""


def _customers_sql(q: _Sql) -> str:
    return f"""
INSERT INTO core_customer (id, domain, name, country_id, segment, created_at)
SELECT g, 'c' || g || '.bench.example', 'Bench customer ' || g,
       (%(countries)s::varchar[])[{q.country_index("g")}],
       CASE WHEN {q.u("g", 6)} < 0.6 THEN 'smb'
            WHEN {q.u("g", 6)} < 0.9 THEN 'mid_market' ELSE 'enterprise' END,
       %(start)s::timestamptz - interval '30 days'
FROM generate_series(1, {q.sizes.customers}) g
"""


def _lines_sql(q: _Sql, *, product_lines: list[str], hubs: list[str]) -> str:
    """The subscription lines with everything their versions are derived from."""
    s = q.sizes
    subs = s.subscription_lines
    more = _coprime(1_000_003, subs)
    n_lines = len(product_lines)
    lines = "ARRAY[" + ",".join(f"'{p}'" for p in product_lines) + "]::varchar[]"
    hub_list = "ARRAY[" + ",".join(f"'{h}'" for h in hubs) + "]::varchar[]"
    return f"""
CREATE TEMPORARY TABLE bench_line AS
WITH base AS (
    SELECT sid, mod(sid - 1, {s.customers}) + 1 AS customer_id,
           (sid - 1) / {s.customers} AS slot
    FROM generate_series(1::bigint, {subs}) sid
), shaped AS (
    SELECT sid, customer_id,
           ({lines})[1 + mod(slot + floor({n_lines} * {q.u("customer_id", 7)})::int,
                             {n_lines})::int] AS product_line_id,
           -- {s.versions} versions over {subs} lines: every line has the quotient, a
           -- scattered remainder of lines (a permutation of line numbers) one more.
           {s.versions // subs} + CASE WHEN mod((sid - 1) * {more}, {subs})
                                           < {s.versions % subs} THEN 1 ELSE 0 END AS n,
           (%(start)s::date + floor({q.u("sid", 8)} * %(days)s * 0.85)::int) AS started,
           {q.u("sid", 9)} < 0.12 AS terminated,
           {q.u("sid", 10)} AS trend,
           {q.u("sid", 11)} < 0.03 AS rebilled_in_usd,
           {q.u("sid", 12)} < 0.03 AS free_first,
           round((15 + 985 * power({q.u("sid", 13)}, 2))::numeric, 2) AS usd_base,
           1 + floor(3 * {q.u("sid", 14)})::int AS edition_rank,
           1 + floor(40 * {q.u("sid", 15)})::int AS seats,
           {q.customer_currency("customer_id")} AS currency_id
    FROM base
)
SELECT sid, customer_id, product_line_id, n, started, currency_id, trend, rebilled_in_usd,
       free_first, usd_base, edition_rank, seats,
       product_line_id = ANY({hub_list}) AS has_editions,
       CASE WHEN terminated
            THEN started + greatest(3 * n + 1,
                                    floor({q.u("sid", 16)} * (%(end)s::date - started))::int)
       END AS finished,
       greatest(3 * n + 1, CASE WHEN terminated
            THEN greatest(3 * n + 1,
                          floor({q.u("sid", 16)} * (%(end)s::date - started))::int)
            ELSE %(end)s::date - started END) AS span
FROM shaped
"""


def _version_from(q: _Sql, k: str) -> str:
    """The first day of version `k` of a `bench_line` row `l` (strictly increasing in k)."""
    return (
        f"(l.started + CASE WHEN {k} = 0 THEN 0 ELSE floor(l.span * ({k} + 0.6 * "
        f"{q.u(f'l.sid * 1000 + {k}', 17)}) / l.n)::int END)"
    )


def _version_mrr(k: str) -> str:
    """The MRR of version `k` of line `l` in USD (before conversion)."""
    return f"""(CASE WHEN {k} = 0 AND l.free_first AND l.n > 1 THEN 0
            WHEN l.trend < 0.70 THEN l.usd_base * (1 + 0.35 * {k})
            WHEN l.trend < 0.90 THEN l.usd_base * greatest(0.3, 1 - 0.25 * {k})
            ELSE l.usd_base END)"""


def _version_currency(k: str) -> str:
    return f"(CASE WHEN l.rebilled_in_usd AND {k} >= 1 THEN 'USD' ELSE l.currency_id END)"


def _local(amount_usd: str) -> str:
    """`amount_usd` in the currency of the joined `cur` row, in its billing units."""
    return (
        f"round({amount_usd} * cur.points_amount / 100, "
        f"CASE WHEN cur.code = ANY(%(whole_units)s::varchar[]) THEN 0 ELSE 2 END)"
    )


def _versions_sql(q: _Sql) -> str:
    return f"""
INSERT INTO core_subscriptionversion (subscription_id, edition_id, seats, mrr, currency_id,
    effective_from, effective_until, recorded_at)
SELECT l.sid,
       CASE WHEN l.has_editions THEN (ARRAY['starter', 'professional', 'enterprise'])[
           CASE WHEN l.trend < 0.70 THEN least(3, l.edition_rank + k) ELSE l.edition_rank END]
       END,
       l.seats * CASE WHEN l.trend < 0.70 THEN 1 + k ELSE 1 END,
       {_local(_version_mrr("k"))},
       cur.code,
       {_version_from(q, "k")},
       CASE WHEN k < l.n - 1 THEN {_version_from(q, "(k + 1)")} ELSE l.finished END,
       {_version_from(q, "k")}::timestamptz
FROM bench_line l
CROSS JOIN LATERAL generate_series(0, l.n - 1) k
JOIN core_currency cur ON cur.code = {_version_currency("k")}
"""


def _subscriptions_sql() -> str:
    return """
INSERT INTO core_subscription (id, customer_id, product_line_id)
SELECT sid, customer_id, product_line_id FROM bench_line
"""


def _associations_sql(q: _Sql) -> str:
    """Pick `associations` lines (a permutation of line numbers) and who holds them."""
    s = q.sizes
    subs = s.subscription_lines
    more = _coprime(7_000_003, subs)
    return f"""
CREATE TEMPORARY TABLE bench_association AS
SELECT picked.i, l.sid, l.customer_id, l.product_line_id, l.started AS close_date,
       {_local(_version_mrr("0"))} AS mrr_at_close, cur.code AS currency_id,
       CASE WHEN {q.u("l.sid", 20)} < 0.88 THEN {q.owner("l.customer_id")}
            ELSE 1 + floor({s.partners} * {q.u("l.sid", 21)})::bigint END AS organisation_id,
       CASE WHEN {q.u("l.sid", 22)} < 0.55 THEN 'partner_sourced'
            ELSE 'partner_assisted' END AS kind
FROM (SELECT sid, mod((sid - 1) * {more} + 17, {subs}) + 1 AS i
      FROM generate_series(1::bigint, {subs}) sid) picked
JOIN bench_line l ON l.sid = picked.sid
JOIN core_currency cur ON cur.code = l.currency_id
WHERE picked.i <= {s.associations}
"""


#: Partners that start Elite were invited by partner ops (Elite is by invitation, SPEC 4).
_ELITE_INVITATIONS_SQL = """
INSERT INTO tiers_eliteinvitation (organisation_id, invited_by_id, invited_at, reason)
SELECT o.id, %(user_id)s, %(start)s::timestamptz - interval '60 days',
       'Bench: Elite before the generated months'
FROM core_organisation o
WHERE o.kind = 'partner' AND o.tier = 'elite'
"""

_DEALS_SQL = """
INSERT INTO deals_deal (id, customer_id, growth_specialist_id, vendor_owned, status,
    expected_close_date, created_at, purchase_domain, close_date, closed_at, closed_by_id,
    onboarding_partner_id, resolution_rule, resolution_explanation, resolution_detail,
    winner_id, decided_by_id, decided_at, decision_reason)
SELECT a.i, a.customer_id, NULL, a.kind = 'partner_assisted', 'won', a.close_date,
       (a.close_date - 30)::timestamptz, 'c' || a.customer_id || '.bench.example',
       a.close_date, a.close_date::timestamptz, NULL, NULL, 'bench', '', '{}'::jsonb,
       a.i, NULL, NULL, ''
FROM bench_association a
"""

_REGISTRATIONS_SQL = """
INSERT INTO deals_registration (id, deal_id, organisation_id, motion, status,
    registered_domain, created_at, created_by_id, status_changed_at, expires_at,
    decision_note, referred_by_id, acknowledged_secondary_at, acknowledgement)
SELECT a.i, a.i, a.organisation_id, a.kind, 'approved', 'c' || a.customer_id || '.bench.example',
       (a.close_date - 30)::timestamptz, %(user_id)s, (a.close_date - 25)::timestamptz, NULL,
       '', NULL, NULL, ''
FROM bench_association a
"""

_SOLD_ASSOCIATIONS_SQL = """
INSERT INTO deals_soldassociation (id, organisation_id, customer_id, product_line_id, kind,
    deal_id, registration_id, close_date, mrr_at_close, currency_id, created_at)
SELECT a.i, a.organisation_id, a.customer_id, a.product_line_id, a.kind, a.i, a.i,
       a.close_date, a.mrr_at_close, a.currency_id, a.close_date::timestamptz
FROM bench_association a
"""


def _activities_sql(q: _Sql) -> str:
    s = q.sizes
    others = (
        f"WHEN {q.u('g', 31)} < 0.90 THEN {s.partners + 1} + floor({s.providers} * "
        f"{q.u('g', 32)})::bigint"
        if s.providers
        else ""
    )
    return f"""
INSERT INTO core_activity (organisation_id, customer_id, kind, occurred_at, recorded_at)
SELECT CASE WHEN {q.u("g", 31)} < 0.85 THEN {q.owner("x.customer_id")}
            {others}
            ELSE 1 + floor({s.partners} * {q.u("g", 32)})::bigint END,
       x.customer_id,
       CASE WHEN {q.u("g", 33)} < 0.45 THEN 'login'
            WHEN {q.u("g", 33)} < 0.65 THEN 'asset_created'
            WHEN {q.u("g", 33)} < 0.90 THEN 'asset_edited'
            ELSE 'settings_changed' END,
       x.at, x.at
FROM (SELECT g, 1 + floor({s.customers} * {q.u("g", 30)})::bigint AS customer_id,
             %(start)s::timestamptz
             + floor({q.u("g", 34)} * %(days)s * 86400) * interval '1 second' AS at
      FROM generate_series(1, {s.activities}) g) x
"""


#: One entitlement per sold association, with the association's id (see the module's doc).
_ENTITLEMENTS_SQL = """
INSERT INTO commissions_entitlement (id, association_id, organisation_id, customer_id,
    product_line_id, deal_id, program, months, close_date, created_at)
SELECT a.id, a.id, a.organisation_id, a.customer_id, a.product_line_id, a.deal_id,
       CASE WHEN a.kind = 'partner_sourced' THEN 'partner_sourced' ELSE 'upmarket_referral' END,
       CASE WHEN a.kind = 'partner_assisted' THEN %(upmarket_months)s
            WHEN o.kind = 'provider' THEN %(provider_months)s ELSE %(partner_months)s END,
       a.close_date, a.created_at
FROM deals_soldassociation a
JOIN core_organisation o ON o.id = a.organisation_id
"""


def _wipe_commissions(cursor: Any) -> None:
    cursor.execute(
        "SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NOT NULL",
        [COMMISSIONS_TABLES],
    )
    present = [row[0] for row in cursor.fetchall()]
    if present:
        cursor.execute(f"TRUNCATE {', '.join(present)} RESTART IDENTITY CASCADE")


def _entitlement_params() -> dict[str, Any]:
    from commissions import rules

    return {
        "upmarket_months": rules.UPMARKET_MONTHS,
        "provider_months": rules.sourced_months(is_provider=True),
        "partner_months": rules.sourced_months(is_provider=False),
    }


def generate_entitlements(*, i_know: bool = False, log: Callable[[str], None] = print) -> int:
    """Rebuild only the entitlements of an already generated program (the ledger, runs and
    statements emptied), in one transaction; return how many."""
    from django.db import connection, transaction

    require_bench_database(i_know=i_know)
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # Checks pending from earlier in an enclosing transaction would forbid the TRUNCATE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _wipe_commissions(cursor)
        cursor.execute(_ENTITLEMENTS_SQL, _entitlement_params())
        created = cursor.rowcount
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('commissions_entitlement', 'id'), "
            "coalesce((SELECT max(id) FROM commissions_entitlement), 0) + 1, false)"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE commissions_entitlement")
    log(f"  {'entitlements':<28} {created:>10} rows  {time.perf_counter() - t0:7.2f} s")
    return created


#: Tables given explicit ids, whose identity sequences must then be moved past them.
_EXPLICIT_ID_TABLES = [
    "core_organisation",
    "core_customer",
    "core_subscription",
    "deals_deal",
    "deals_registration",
    "deals_soldassociation",
    "commissions_entitlement",
]

ANALYZED_TABLES = [
    "core_organisation",
    "core_customer",
    "core_subscription",
    "core_subscriptionversion",
    "core_activity",
    "deals_deal",
    "deals_registration",
    "deals_soldassociation",
    "tiers_tierassessment",
    "tiers_tierassessmentlines",
    "commissions_entitlement",
]


def generate(
    sizes: Sizes,
    *,
    i_know: bool = False,
    vacuum: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, object]:
    """Wipe the program tables and fill them at `sizes`; return what was built.

    Runs in one transaction (a failure leaves the previous data), then, with `vacuum`,
    VACUUM ANALYZEs the tables so the planner and the visibility map see the new data.
    """
    from django.db import connection, transaction

    from partnerportal.core.models import ProductLine, Role, User

    database = require_bench_database(i_know=i_know)
    product_lines = sorted(ProductLine.objects.values_list("code", flat=True))
    hubs = sorted(
        ProductLine.objects.filter(kind=ProductLine.Kind.HUB).values_list("code", flat=True)
    )
    _validate(sizes, product_lines=len(product_lines))
    q = _Sql(sizes)
    params = _params(sizes)
    steps: dict[str, float] = {}
    began = time.perf_counter()

    def done(name: str, since: float, rows: int | None = None) -> None:
        steps[name] = round(time.perf_counter() - since, 2)
        shown = "" if rows is None else f"{rows:>10} rows"
        log(f"  {name:<28} {shown:>15}  {steps[name]:7.2f} s")

    def step(name: str, sql: str, extra: dict[str, Any] | None = None) -> None:
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, {**params, **(extra or {})})
            done(name, t0, cursor.rowcount)

    log(f"Generating into {database}: {json.dumps(asdict(sizes), default=str)}")
    with transaction.atomic():
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(WIPED_TABLES)} RESTART IDENTITY CASCADE")
            _wipe_commissions(cursor)
            cursor.execute("DROP TABLE IF EXISTS bench_line, bench_association")
        user = User.objects.create_user(
            BENCH_USER_EMAIL, password=None, role=Role.PARTNER_OPS, first_name="Bench"
        )
        done("wipe", t0)
        step("organisations", _organisations_sql(q))
        step("elite invitations", _ELITE_INVITATIONS_SQL, {"user_id": user.pk})
        step("customers", _customers_sql(q))
        step("lines (temporary)", _lines_sql(q, product_lines=product_lines, hubs=hubs))
        step("subscriptions", _subscriptions_sql())
        step("subscription versions", _versions_sql(q))
        step("associations (temporary)", _associations_sql(q))
        # Deals name their winning registration and registrations their deal: the foreign
        # keys are deferred, so both land in this transaction before they are checked.
        step("deals", _DEALS_SQL)
        step("registrations", _REGISTRATIONS_SQL, {"user_id": user.pk})
        step("sold associations", _SOLD_ASSOCIATIONS_SQL)
        step("activities", _activities_sql(q))
        step("entitlements", _ENTITLEMENTS_SQL, _entitlement_params())
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            for table in _EXPLICIT_ID_TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                )
            cursor.execute("DROP TABLE bench_line, bench_association")
        counts = _counts()
        _record_meta(sizes=sizes, counts=counts, seconds=time.perf_counter() - began)
        done("sequences, counts", t0)
        t0 = time.perf_counter()
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: the commit checks them all.
    done("commit (foreign-key checks)", t0)
    t0 = time.perf_counter()
    _analyze(vacuum=vacuum and not connection.in_atomic_block)
    done("vacuum analyze", t0)
    total = round(time.perf_counter() - began, 1)
    log(f"Done in {total} s: {json.dumps(counts)}")
    meta = {"sizes": asdict(sizes), "counts": counts, "seconds": total, "steps": steps}
    if not connection.in_atomic_block:
        _record_meta(sizes=sizes, counts=counts, seconds=total, steps=steps)
    return meta


def _counts() -> dict[str, int]:
    """Return the row counts that describe the generated program."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM core_organisation WHERE kind = 'partner'),
                   (SELECT count(*) FROM core_organisation WHERE kind = 'provider'),
                   (SELECT count(*) FROM tiers_eliteinvitation),
                   (SELECT count(*) FROM core_customer),
                   (SELECT count(DISTINCT country_id) FROM core_customer),
                   (SELECT count(*) FROM core_customer c JOIN core_country co
                        ON co.code = c.country_id WHERE co.growth_market),
                   (SELECT count(DISTINCT currency_id) FROM core_subscriptionversion),
                   (SELECT count(*) FROM core_subscription),
                   (SELECT count(*) FROM core_subscriptionversion),
                   (SELECT count(*) FROM core_subscriptionversion
                        WHERE effective_until IS NOT NULL),
                   (SELECT count(*) FROM deals_soldassociation),
                   (SELECT count(*) FROM deals_soldassociation
                        WHERE kind = 'partner_sourced'),
                   (SELECT count(*) FROM core_activity),
                   (SELECT count(*) FROM core_activity WHERE kind = 'login'),
                   (SELECT count(*) FROM commissions_entitlement),
                   (SELECT count(*) FROM commissions_entitlement
                        WHERE program = 'upmarket_referral')
            """
        )
        row = cursor.fetchone()
    return dict(zip(COUNT_NAMES, (int(v) for v in row), strict=True))


#: The row counts `_counts` reports, in the order a report lists them.
COUNT_NAMES = [
    "partners",
    "providers",
    "elite_invitations",
    "customers",
    "countries",
    "customers_in_growth_markets",
    "currencies",
    "subscriptions",
    "subscription_versions",
    "closed_versions",
    "sold_associations",
    "sourced_associations",
    "activities",
    "logins",
    "entitlements",
    "upmarket_entitlements",
]


def _record_meta(
    *,
    sizes: Sizes,
    counts: dict[str, int],
    seconds: float,
    steps: dict[str, float] | None = None,
) -> None:
    from django.db import connection

    value = {
        "sizes": asdict(sizes),
        "subscription_lines": sizes.subscription_lines,
        "counts": counts,
        "seconds": round(seconds, 1),
        "steps": steps or {},
        "command": " ".join(["python -m bench.generate", *sys.argv[1:]])
        if sys.argv and sys.argv[0].endswith("generate.py")
        else "",
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value jsonb)"
        )
        cursor.execute(
            f"INSERT INTO {META_TABLE} (key, value) VALUES ('generate', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(value, default=str)],
        )


def _analyze(*, vacuum: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ANALYZED_TABLES:
            cursor.execute(f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} {table}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n\n")[0]
    )
    defaults = Sizes()
    parser.add_argument("--small", action="store_true", help="a quick preset (~2% of default)")
    for name in ("partners", "providers", "customers", "subscriptions", "versions"):
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--associations", type=int)
    parser.add_argument("--activities", type=int)
    parser.add_argument("--months", type=int)
    parser.add_argument(
        "--through",
        type=lambda s: date.fromisoformat(s + "-01" if len(s) == 7 else s).replace(day=1),
        help=f"last month covered, YYYY-MM (default {defaults.through:%Y-%m})",
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument(
        "--i-know",
        action="store_true",
        help=f"allow a database whose name does not start with {'pp_bench'!r}",
    )
    parser.add_argument("--no-vacuum", action="store_true", help="ANALYZE only")
    parser.add_argument(
        "--only-entitlements",
        action="store_true",
        help="rebuild only the commissions entitlements of the generated program",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = SMALL if args.small else Sizes()
    overrides = {
        name: getattr(args, name)
        for name in (
            "partners",
            "providers",
            "customers",
            "subscriptions",
            "versions",
            "associations",
            "activities",
            "months",
            "through",
            "seed",
        )
        if getattr(args, name) is not None
    }
    sizes = replace(sizes, **overrides)
    setup_django()
    if args.only_entitlements:
        generate_entitlements(i_know=args.i_know)
        return 0
    generate(sizes, i_know=args.i_know, vacuum=not args.no_vacuum)
    return 0


if __name__ == "__main__":
    sys.exit(main())
