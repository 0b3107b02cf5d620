"""Events deals publishes. Deals names no receiver: other apps connect in their own
`AppConfig.ready` (SPEC 12: deals knows nothing of money)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the crediting transaction, after the winner's sold associations are written,
# with `deal` (the won deal) and `associations` (the SoldAssociation rows just granted; may be
# empty). A receiver that fails rolls the close back: what it writes commits with the credit.
deal_credited = Signal()
