"""Writes of deals (SPEC 5 and 6), by audience: `partner` (registrations, referrals, manual
POIs, answers), `staff` (growth specialists: requests, invitations, quotes, the close and its
dry run, questions), `ops` (tie decisions, territories) and `customer` (the POI link); what
the close and a tie decision share (Best Partner Wins) is `_closing`. Each service
checks permission, validates, locks what it changes, writes and audits in one transaction; the
decisions themselves are the pure functions of `deals.rules`. Services take typed values
(`deals.inputs`), never request data; they refuse with the `core.errors` family only.

Views, the API, commands and tasks call these (as `deals.services.<name>`) and never save
models.
"""

from __future__ import annotations

# The typed input the services take, for callers outside the app (they reach deals through
# its services).
from ..inputs import AS_QUOTED, ClosedLineInput, PoiDecision, QuoteLineInput

# The event published when a deal is credited, for receivers in other apps (deals.signals).
from ..signals import deal_credited
from ._closing import ClosePlan
from ._common import SECONDARY_ACKNOWLEDGEMENT, PoiLinkError, expected_close_horizon_days
from .customer import POI_SALT, poi_decide, poi_from_token, poi_link_problem, poi_token, poi_url
from .ops import deal_decide, territory_assign, territory_edit, territory_problems
from .partner import (
    inquiry_answer,
    invitation_accept,
    manual_poi_create,
    referral_create,
    registration_create,
    secondary_acknowledge,
)
from .staff import (
    deal_close,
    deal_close_preview,
    deal_create,
    inquiry_ask,
    invitation_create,
    invitations_lapse,
    quote_save,
    registration_decide,
)

__all__ = [
    "AS_QUOTED",
    "POI_SALT",
    "SECONDARY_ACKNOWLEDGEMENT",
    "ClosePlan",
    "ClosedLineInput",
    "PoiDecision",
    "PoiLinkError",
    "QuoteLineInput",
    "deal_close",
    "deal_close_preview",
    "deal_create",
    "deal_credited",
    "deal_decide",
    "expected_close_horizon_days",
    "inquiry_answer",
    "inquiry_ask",
    "invitation_accept",
    "invitation_create",
    "invitations_lapse",
    "manual_poi_create",
    "poi_decide",
    "poi_from_token",
    "poi_link_problem",
    "poi_token",
    "poi_url",
    "quote_save",
    "referral_create",
    "registration_create",
    "registration_decide",
    "secondary_acknowledge",
    "territory_assign",
    "territory_edit",
    "territory_problems",
]
