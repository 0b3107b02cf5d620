"""`manage.py import_certifications FILE.csv`: idempotent, a bad row reported with its line
number and the rest imported, and it says what it did."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accreditations.models import Certification
from tests.cast import Cast

pytestmark = pytest.mark.django_db


def run(path: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_certifications", str(path), stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def test_import_certifications_reports_bad_rows_by_line_and_imports_the_rest(
    cast: Cast, tmp_path: Path
) -> None:
    export = tmp_path / "academy.csv"
    export.write_text(
        "partner,code,kind,holder_email,expires_on\n"
        f"{cast.org_a.pk},solutions_partner,program,ann@alpha.example,\n"
        f"{cast.org_a.pk},crm_implementation,wizardry,ann@alpha.example,\n"
        f"{cast.org_a.pk},crm_implementation,implementation,ann@alpha.example,2027-06-30\n"
        f"999999,inbound,software,bob@nowhere.example,\n"
        f"{cast.org_b.pk},inbound,software,not-an-email,\n"
        f"{cast.org_b.pk},inbound,software,cy@bravo.example,2026-13-01\n"
    )

    out, err = run(export)

    assert out == (
        "2 certifications recorded, 0 updated, 0 already recorded as they are; 4 rows refused."
    )
    problems = err.splitlines()
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 5", "line 6", "line 7"]
    assert "kind" in problems[0]
    assert "No such partner." in problems[1]
    assert sorted(Certification.objects.values_list("code", flat=True)) == [
        "crm_implementation",
        "solutions_partner",
    ]

    # Idempotent: a second import of the same file records nothing more.
    again, _ = run(export)
    assert again.startswith("0 certifications recorded, 0 updated, 2 already recorded")
    assert Certification.objects.count() == 2


def test_import_certifications_refuses_a_file_without_the_columns(tmp_path: Path) -> None:
    export = tmp_path / "wrong.csv"
    export.write_text("who,what\n1,2\n")
    with pytest.raises(CommandError, match="lacks the column"):
        run(export)
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv")
