"""The project package is the composition root: the home page and the operator commands that
span apps live there, and the kernel (`partnerportal.core`) imports no app (issue 9, SPEC 12).
The import contracts themselves are in pyproject.toml and run in CI (`lint-imports`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.urls import resolve

from deals.models import Deal, Territory
from partnerportal.core.models import AuditEvent, Organisation, Role, User

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(*contracts: str) -> subprocess.CompletedProcess[str]:
    arguments = [a for contract in contracts for a in ("--contract", contract)]
    return subprocess.run(  # noqa: S603 - our own virtualenv's tool, fixed arguments
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *arguments],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_kernel_imports_no_app_and_no_app_imports_the_composition_root() -> None:
    """Every import of `partnerportal.core`, lazy ones inside functions included, checked by
    import-linter's contracts `kernel` and `root`."""
    result = _lint_imports("kernel", "root")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_the_home_page_and_the_spanning_commands_belong_to_the_project_package() -> None:
    assert resolve("/").func.__module__ == "partnerportal.views"
    commands = get_commands()
    assert commands["seed_demo"] == "partnerportal"
    assert commands["create_staff"] == "partnerportal"
    assert commands["issue_token"] == "partnerportal.core"  # the kernel's own
    kernel = Path(settings.BASE_DIR) / "partnerportal" / "core" / "management" / "commands"
    assert sorted(p.name for p in kernel.glob("[!_]*.py")) == ["issue_token.py"]


@pytest.mark.django_db
def test_seed_demo_loads_the_kernel_deals_and_tiers_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tiers.models import TierAssessment

    call_command("seed_demo")
    first = capsys.readouterr().out
    assert "Loaded demo data: 7 staff, 3 partner organisations" in first
    assert "Ran the re-tiering for" in first
    assert "admin@northwind.example" in first
    northwind = Organisation.objects.get(name="Northwind Digital")
    assert TierAssessment.objects.filter(organisation=northwind).count() >= 2
    assert Deal.objects.exists()
    counts = (
        User.objects.count(),
        Deal.objects.count(),
        TierAssessment.objects.count(),
        AuditEvent.objects.count(),
    )
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert "Demo data already loaded: nothing to do." in second
    assert (
        User.objects.count(),
        Deal.objects.count(),
        TierAssessment.objects.count(),
        AuditEvent.objects.count(),
    ) == counts


@pytest.mark.django_db
def test_create_staff_gives_a_growth_specialist_its_territory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command(
        "create_staff", "gs.latam@vendor.example", "--role", "growth_specialist",
        "--region", "latam", "--segment", "smb",
    )  # fmt: skip
    assert capsys.readouterr().out == (
        "Created growth_specialist gs.latam@vendor.example (territory: latam/smb)\n"
    )
    gs = User.objects.get(email="gs.latam@vendor.example")
    assert Territory.objects.get(region="latam", segment="smb").growth_specialist == gs
    call_command("create_staff", "finance@vendor.example", "--role", Role.FINANCE)
    assert capsys.readouterr().out == "Created finance finance@vendor.example\n"
