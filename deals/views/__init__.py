"""Deal pages, by audience: `partner` (My deals, a registration), `staff` (the workspace and
the deal page of growth specialists), `ops` (ties to decide) and `customer` (the POI link).

Thin: objects through the selectors, changes through the services, words from the
presenters. A refused change (InvalidInput naming the field, or StateConflict) re-renders the
page with the form as submitted, its messages and a 400: never a 500, never lost input. A
success redirects with a message.
"""

from __future__ import annotations

from .customer import poi_answer
from .ops import deal_decide, ties
from .partner import (
    inquiry_answer,
    my_deals,
    registration_accept,
    registration_acknowledge,
    registration_detail,
    registration_poi,
    registration_referral,
)
from .staff import (
    deal_close,
    deal_create,
    deal_detail,
    deal_invite,
    deal_quote,
    inquiry_ask,
    registration_decide,
    workspace,
)

__all__ = [
    "deal_close",
    "deal_create",
    "deal_decide",
    "deal_detail",
    "deal_invite",
    "deal_quote",
    "inquiry_answer",
    "inquiry_ask",
    "my_deals",
    "poi_answer",
    "registration_accept",
    "registration_acknowledge",
    "registration_decide",
    "registration_detail",
    "registration_poi",
    "registration_referral",
    "ties",
    "workspace",
]
