"""Words instead of codes, and links that point where the portal runs (issue 13).

- Form errors name the refused program rule in words, never its code.
- Deal pages say which rule decided, and why a partner was not a candidate, in words only;
  purchased lines are "Credited" only on a deal a partner was credited with.
- The audit trail shows each event's details as labelled fields in words.
- POI links are built from the request (pages and API), or from `PORTAL_BASE_URL` outside a
  request, which `./dev.sh` sets from `PORT`.
- The sign-in page does not invite people to sign up (sign-up is closed).
- A provider reads as a provider: no tier prerequisites, "Provider admin", and one wording of
  its (absent) tier in staff lists and on its page.
- A Partner Sourced deal whose requests were all rejected is not an open deal of the GS.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from deals import presenters, services
from deals.inputs import ClosedLineInput
from deals.models import Deal
from deals.rules import Rule
from deals.tests.test_access_pages import QUOTE, approve, live_poi, register
from partnerportal.core.errors import InvalidInput
from partnerportal.core.presenters import PROVIDER_TIER_WORDS
from tests.cast import Cast, api_as, browser_as

pytestmark = pytest.mark.django_db


def visible_text(page: str) -> str:
    """The words a person reads: the body without tags, scripts or styles."""
    body = page.split("<body", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


# --- Form errors -----------------------------------------------------------------------------


def test_a_refused_registration_names_the_rule_in_words_without_its_code(cast: Cast) -> None:
    # given: a registration on acme.example
    client = browser_as(cast.admin_a)
    body = {"customer_domain": "acme.example", "country": "GB", "segment": "smb"}
    assert client.post("/deals/", body).status_code == 302
    # when: the partner registers the same domain again
    response = client.post("/deals/", body)
    # then: the form says why, in words
    words = visible_text(response.content.decode())
    assert response.status_code == 400
    assert "program rule: one open deal per partner and customer domain" in words
    assert "duplicate_registration" not in words
    assert "(rule:" not in words


def test_every_refusal_suffix_is_words_only() -> None:
    for rule in Rule:
        suffix = presenters.refused_by(rule.value)
        assert rule.value not in suffix if "_" in rule.value else True
        assert suffix == f"(program rule: {presenters.RULE_WORDS[rule]})"


def test_a_refused_quote_line_names_the_rule_in_words(cast: Cast) -> None:
    # given: an approved registration; the GS saves a quote of a Starter line only
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    form = {
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product_line": "marketing_hub",
        "lines-0-edition": "starter",
        "lines-0-seats": "1",
        "lines-0-mrr": "50.00",
        "lines-0-currency": "USD",
        "save": "1",
    }
    # when
    response = browser_as(cast.gs).post(f"/deals/{mine.deal_id}/quote/", form)
    # then
    words = visible_text(response.content.decode())
    assert response.status_code == 400
    assert presenters.RULE_WORDS[Rule.STARTER_ONLY] in words
    assert "starter_only" not in words


def test_a_rule_refusal_put_on_a_form_shows_no_code() -> None:
    from deals.forms import CustomerForm, apply_errors

    form = CustomerForm(
        {"customer_domain": "acme.example", "country": "GB", "segment": "smb"},
        countries=[("GB", "United Kingdom")],
    )
    assert form.is_valid()
    apply_errors(
        form,
        InvalidInput(
            "You already have an open deal on this domain.",
            field="customer_domain",
            rule=Rule.DUPLICATE_REGISTRATION,
        ),
    )
    (message,) = form.errors["customer_domain"]
    assert message == (
        "You already have an open deal on this domain. "
        "(program rule: one open deal per partner and customer domain)"
    )


# --- Deal pages ------------------------------------------------------------------------------


def _closed_without_credit(cast: Cast) -> Deal:
    """A quoted deal whose partner's POI was never approved, closed as won: nobody is
    credited (no candidate), though the purchased line is eligible."""
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    services.quote_save(actor=cast.gs, deal=mine.deal, lines=QUOTE)
    return services.deal_close(
        actor=cast.gs,
        deal=mine.deal,
        purchase_domain="acme.example",
        close_date=timezone.localdate(),
        lines=[ClosedLineInput(product_line="marketing_hub")],
    )


def test_the_deal_page_says_the_deciding_rule_and_exclusions_in_words_only(cast: Cast) -> None:
    deal = _closed_without_credit(cast)
    assert deal.resolution_rule == Rule.NO_CANDIDATE
    words = visible_text(browser_as(cast.gs).get(f"/deals/{deal.pk}/").content.decode())
    assert presenters.RULE_WORDS[Rule.NO_CANDIDATE] in words
    assert presenters.RULE_WORDS[Rule.NOT_APPROVED] in words
    for code in ("no_candidate", "not_approved", "eligible_edition"):
        assert code not in words


def test_purchased_lines_are_not_badged_credited_when_nobody_was_credited(cast: Cast) -> None:
    # given: a deal closed with no candidate; its Marketing Hub Professional line is eligible
    deal = _closed_without_credit(cast)
    assert deal.winner_id is None
    assert deal.purchased_lines.get().credited  # eligible, in the rules' terms
    # when
    page = browser_as(cast.gs).get(f"/deals/{deal.pk}/").content.decode()
    # then: the badge says eligible, nobody credited; never "Credited"
    lines = page.split("<h3>Purchased lines</h3>")[1].split("</table>")[0]
    assert "Eligible; no partner credited" in lines
    assert ">Credited<" not in lines


def test_purchased_lines_are_credited_on_a_deal_a_partner_won(cast: Cast) -> None:
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    services.quote_save(actor=cast.gs, deal=mine.deal, lines=QUOTE)
    from deals.tests.test_access_pages import answer_poi

    answer_poi(mine, "approve")
    deal = services.deal_close(
        actor=cast.gs,
        deal=mine.deal,
        purchase_domain="acme.example",
        close_date=timezone.localdate(),
        lines=[ClosedLineInput(product_line="marketing_hub")],
    )
    page = browser_as(cast.gs).get(f"/deals/{deal.pk}/").content.decode()
    lines = page.split("<h3>Purchased lines</h3>")[1].split("</table>")[0]
    assert ">Credited<" in lines


@pytest.mark.parametrize(
    ("eligible", "has_winner", "awaiting", "words"),
    [
        (True, True, False, "Credited"),
        (False, True, False, "Not credited"),
        (False, False, False, "Not credited"),
        (True, False, False, "Eligible; no partner credited"),
        (True, False, True, "Eligible; awaiting the tie decision"),
    ],
)
def test_a_line_badge_follows_eligibility_and_outcome(
    eligible: bool, has_winner: bool, awaiting: bool, words: str
) -> None:
    _, said = presenters.line_credit_badge(
        eligible=eligible, has_winner=has_winner, awaiting=awaiting
    )
    assert said == words


# --- Audit trail -------------------------------------------------------------------------------


def test_the_audit_trail_shows_details_as_fields_in_words(cast: Cast) -> None:
    # given: a registration rejected by the GS, and a quote saved on another
    rejected = register(cast.admin_a, "rejected.example")
    services.registration_decide(actor=cast.gs, registration=rejected, approve=False)
    quoted = approve(cast.gs, register(cast.admin_b, "quoted.example"))
    services.quote_save(actor=cast.gs, deal=quoted.deal, lines=QUOTE)
    # when
    page = browser_as(cast.ops).get("/audit/").content.decode()
    # then: labelled fields, codes in words, no Python dictionaries
    details = re.findall(r'<dl class="audit-details">(.*?)</dl>', page, re.S)
    assert details
    assert "<dt>Status</dt><dd>Rejected</dd>" in page
    assert "<dt>Deal</dt><dd>#" in page
    text = visible_text(page)
    assert "Product line: Marketing Hub" in text
    assert "Edition: Professional" in text
    assert "Country United Kingdom" in text
    assert "{'" not in text
    assert '{"' not in text
    for code in ("pending_approval", "marketing_hub", "product_line"):
        assert code not in " ".join(visible_text(d) for d in details)
    assert 'href="/static/css/audit.css"' in page  # long values wrap inside the column


def test_audit_details_word_dates_ids_and_unknown_codes() -> None:
    from partnerportal.core import presenters as core

    words = core.CodeWords(by_field={}, flat={"single_candidate": "Single candidate"})
    details = core.audit_details(
        {
            "rule": "single_candidate",
            "winner": 6,
            "close_date": "2026-11-26",
            "due": "2026-11-30T12:19:36.224Z",
            "domain_registered": True,
            "total_points": "9200.000000000000",
            "code": "marketing_hub_software",
            "customer_domain": "some_domain.example",
            "kept": [],
            "expires_on": None,
        },
        subject_type="deals.deal",
        words=words,
    )
    assert details == [
        ("Rule", "Single candidate"),
        ("Winner (registration)", "#6"),
        ("Close date", "26 Nov 2026"),
        ("Answer due", "30 Nov 2026 12:19 UTC"),
        ("Purchase domain registered on the deal", "Yes"),
        ("Total points", "9200"),
        ("Code", "Marketing hub software"),
        ("Customer domain", "some_domain.example"),  # what someone typed, as typed
        ("Already held", "none"),
        ("Expires on", "—"),
    ]


# --- POI links ---------------------------------------------------------------------------------


def test_poi_links_on_pages_follow_the_address_the_portal_is_reached_on(cast: Cast) -> None:
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    services.quote_save(actor=cast.gs, deal=mine.deal, lines=QUOTE)
    token = services.poi_token(live_poi(mine))
    for user, url in (
        (cast.admin_a, f"/deals/registrations/{mine.pk}/"),
        (cast.gs, f"/deals/{mine.deal_id}/"),
    ):
        client = browser_as(user)
        page = client.get(url, HTTP_HOST="127.0.0.1:8123").content.decode()
        assert f"http://127.0.0.1:8123/poi/{token}/" in page
        assert ":8000" not in page


def test_poi_links_in_the_api_follow_the_address_of_the_call(cast: Cast) -> None:
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    body = {
        "lines": [
            {
                "product_line": "marketing_hub",
                "edition": "professional",
                "mrr": "800.00",
                "currency": "USD",
                "seats": 3,
            }
        ]
    }
    quote = api_as(cast.gs).put(
        f"/api/v1/deals/{mine.deal_id}/quote/", body, format="json", HTTP_HOST="localhost:8124"
    )
    assert quote.status_code == 200, quote.content
    (poi,) = quote.json()["pois"]
    assert poi["url"].startswith("http://localhost:8124/poi/")
    mine_api = api_as(cast.admin_a).get(
        f"/api/v1/registrations/{mine.pk}/poi/", HTTP_HOST="localhost:8124"
    )
    assert mine_api.json()["url"] == poi["url"]


def test_links_made_outside_a_request_use_the_base_url_setting(
    cast: Cast, settings: pytest.FixtureRequest
) -> None:
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8765"  # type: ignore[attr-defined]
    mine = approve(cast.gs, register(cast.admin_a, "acme.example"))
    services.quote_save(actor=cast.gs, deal=mine.deal, lines=QUOTE)
    url = services.poi_url(live_poi(mine))
    assert url.startswith("http://127.0.0.1:8765/poi/")


def test_dev_sh_sets_the_base_url_from_its_port_before_loading_the_demo() -> None:
    script = (Path(settings.BASE_DIR) / "dev.sh").read_text()
    assignment = 'export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://$HOST:$PORT}"'
    assert assignment in script
    assert script.index(assignment) < script.index("manage.py seed_demo")
    assert script.index(assignment) < script.index("manage.py runserver")


# --- Sign-in ---------------------------------------------------------------------------------


def test_the_sign_in_page_does_not_invite_people_to_sign_up() -> None:
    response = Client().get("/accounts/login/")
    words = visible_text(response.content.decode())
    assert response.status_code == 200
    assert "sign up" not in words.lower()
    assert "Ask them to add you" in words


# --- Providers -------------------------------------------------------------------------------


def test_a_providers_home_uses_provider_words(cast: Cast) -> None:
    page = browser_as(cast.provider_admin).get("/").content.decode()
    words = visible_text(page)
    assert "Provider admin" in words
    assert "Partner admin" not in words
    assert "Partner certification" not in words
    assert "Professional subscription" not in words
    assert PROVIDER_TIER_WORDS in words
    assert "Untiered" not in words


def test_a_provider_reads_the_same_in_the_staff_list_and_on_its_page(cast: Cast) -> None:
    listing = browser_as(cast.ops).get("/").content.decode()
    row = re.search(
        rf"<tr>\s*<td><a [^>]*>{re.escape(cast.provider.name)}</a>.*?</tr>", listing, re.S
    )
    assert row is not None
    assert PROVIDER_TIER_WORDS in visible_text(row.group(0))
    assert "Untiered" not in visible_text(row.group(0))
    page = browser_as(cast.ops).get(f"/partners/{cast.provider.pk}/").content.decode()
    organisation = page.split('id="organisation"')[1].split("</section>")[0]
    assert PROVIDER_TIER_WORDS in visible_text(organisation)
    assert "No tier (provider)" not in page


def test_a_partner_admin_is_still_called_partner_admin(cast: Cast) -> None:
    assert "Partner admin" in visible_text(browser_as(cast.admin_a).get("/").content.decode())


# --- Open deals of the growth specialist -------------------------------------------------------


def _open_deals(client: Client) -> str:
    page = client.get("/deals/workspace/").content.decode()
    return page.split('id="open-deals"')[1].split("</section>")[0]


def test_a_deal_left_empty_by_a_rejected_request_is_not_an_open_deal(cast: Cast) -> None:
    # given: a request rejected, one pending, and a vendor-owned deal with no partner yet
    rejected = register(cast.admin_a, "rejected.example")
    services.registration_decide(actor=cast.gs, registration=rejected, approve=False)
    register(cast.admin_a, "pending.example")
    services.deal_create(
        actor=cast.gs,
        customer_domain="vendor.example",
        customer_name="Vendor Owned",
        country="GB",
        segment="smb",
    )
    # when
    deals = _open_deals(browser_as(cast.gs))
    # then: the shell of the rejected request is not the GS's work; the others are
    assert "rejected.example" not in deals
    assert "pending.example" in deals
    assert "vendor.example" in deals
    # and a partner registering the domain again brings the deal back
    register(cast.admin_b, "rejected.example")
    assert "rejected.example" in _open_deals(browser_as(cast.gs))


# --- No raw code on any role's main pages (demo data) --------------------------------------------

#: Codes people met on the pages (issue 13) and their kin: every stored code of the rules and
#: models that has an underscore (a code without one reads as a word), as a whole word.
RAW_CODES = sorted(
    {
        "duplicate_registration",
        "starter_only",
        "single_candidate",
        "other_domain",
        "late_signature",
        "sales_hub",
        "marketing_hub",
        "partner_admin",
        "growth_specialist",
        "pending_approval",
        "awaiting_decision",
        "highest_mrr_onboarding",
        "sourcing_priority",
        "no_candidate",
        "not_approved",
        "crm_implementation",
        "data_migration",
        "ops_escalation",
        "review_board",
        "opportunity_exclusion",
        "partner_sourced",
    }
)

DEMO_PEOPLE = (
    "admin@northwind.example",
    "member@northwind.example",
    "admin@bluepeak.example",
    "admin@atlas.example",
    "admin@summit.example",
    "gs.emea@demo.partnerportal.example",
    "gs@demo.partnerportal.example",
    "pdm@demo.partnerportal.example",
    "ops@demo.partnerportal.example",
    "finance@demo.partnerportal.example",
    "cs@demo.partnerportal.example",
    "sat@demo.partnerportal.example",
)

#: Pages a person opens from where they land, at most this many each (links followed).
PAGES_PER_PERSON = 45
_SKIP = ("/static/", "/admin/", "/api/", "/accounts/", "/poi/", "/healthz")
_LINK = re.compile(r'href="(/[^"#?]*)"')


def _main_pages(client: Client, start: list[str]) -> dict[str, str]:
    """The visible text of every page reachable by links from `start` (same site, GET)."""
    seen: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < PAGES_PER_PERSON:
        url = queue.pop(0)
        if url in seen or url.startswith(_SKIP) or re.search(r"\.(csv|xlsx|pdf)$", url):
            continue
        response = client.get(url, follow=True)
        seen[url] = ""
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = response.content.decode()
        seen[url] = visible_text(page)
        queue.extend(link for link in _LINK.findall(page) if link not in seen)
    return seen


def test_no_raw_code_shows_on_any_roles_main_pages(db: None) -> None:
    # given: the demo program, every role's person in it
    from django.core.management import call_command

    from deals.models import Deal, Registration
    from partnerportal.core.models import User
    from tests.cast import enrol_totp

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    deals = [f"/deals/{pk}/" for pk in Deal.objects.values_list("pk", flat=True)]
    pattern = re.compile(r"\b(" + "|".join(RAW_CODES) + r")\b")
    found: list[tuple[str, str, list[str]]] = []
    opened = 0
    for email in DEMO_PEOPLE:
        person = User.objects.get(email=email)
        if person.is_program_staff:
            enrol_totp(person)
        start = ["/"]
        if person.is_partner_user:
            start += [
                f"/deals/registrations/{pk}/"
                for pk in Registration.objects.filter(
                    organisation_id=person.organisation_id
                ).values_list("pk", flat=True)
            ]
        elif person.role in ("growth_specialist", "partner_ops"):
            start += deals
        # when: the person opens the pages they work from and those they link to
        pages = _main_pages(browser_as(person), start)
        opened += sum(1 for text in pages.values() if text)
        # then: no raw code in what they read
        for url, text in pages.items():
            codes = sorted(set(pattern.findall(text)))
            if codes:
                found.append((email, url, codes))
    assert opened > 100  # the walk did open each role's pages
    assert not found, found


def test_the_audit_trail_reads_an_accreditation_reason_stored_with_its_argument() -> None:
    """Accreditation reasons are stored as `cause:argument` (`missing_certification:
    crm_implementation`, `too_many_marks:4`); the audit trail reads them through the reader the
    accreditations app declares, in words, and leaves other text with a colon as typed."""
    from partnerportal.core import presenters

    details = dict(
        presenters.audit_details(
            {
                "reasons": ["missing_certification:crm_implementation", "too_many_marks:4"],
                "note": "ratio 3:1",
            },
            subject_type="accreditations.accreditation",
            words=presenters.code_words({}),
        )
    )
    assert details["Reasons"] == (
        "No current member of the team holds the CRM Implementation certification.; "
        "The partner has 4 marks on record (more than three): the review board decides."
    )
    assert details["Note"] == "ratio 3:1"
