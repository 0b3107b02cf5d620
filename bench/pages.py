"""Query counts and times of the tier pages at the generated scale.

    python -m bench.pages [--as-of 2026-11-15]

Signs a partner-ops user in (created once in the bench database), picks the partner with the
most contributing lines on the run date, and fetches its tier page, its lines CSV, the
partners list and the tier API, printing the queries each made and its time (best of 3).
Run after `bench.retier` so the date has assessments.
"""

from __future__ import annotations

import argparse
import time

from .db import require_bench_database, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", default="2026-11-15")
    parser.add_argument("--i-know", action="store_true", help="allow a non-bench database")
    args = parser.parse_args()
    setup_django()
    require_bench_database(i_know=args.i_know)

    from django.db import connection
    from django.db.models import F
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from partnerportal.core.models import Role, User
    from tiers.models import TierAssessment

    ops, _ = User.objects.get_or_create(
        email="bench-ops@vendor.example", defaults={"role": Role.PARTNER_OPS}
    )
    largest = (
        TierAssessment.objects.filter(as_of=args.as_of)
        .annotate(line_count=F("line_set__count"))
        .order_by(F("line_count").desc(nulls_last=True))
        .first()
    )
    if largest is None:
        raise SystemExit(f"No assessments for {args.as_of}: run bench.retier first.")
    partner = largest.organisation_id
    print(f"Partner {partner}: {largest.line_count} contributing lines on {args.as_of}")
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(ops, backend="partnerportal.core.auth.ModelBackend")
    for url in (
        f"/partners/{partner}/tier/",
        f"/partners/{partner}/tier/lines.csv",
        "/tiers/partners/",
        f"/api/v1/partners/{partner}/tier/",
    ):
        best = float("inf")
        for _ in range(3):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                body = b"".join(response) if response.streaming else response.content
                best = min(best, time.perf_counter() - started)
        print(
            f"{url:<40} {response.status_code}  {len(queries.captured_queries):>3} queries  "
            f"{best * 1000:7.0f} ms  {len(body):>9} bytes"
        )


if __name__ == "__main__":
    main()
