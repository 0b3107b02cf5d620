"""Record the referrals made before `Referral` existed: each registration a sourcing partner
referred (`referred_by`) becomes the sourcing registration's referral of its partner, so the
sourcing partner's page keeps listing it. (Its author is taken from the referred
registration; the audit trail keeps who referred.)"""

from django.db import migrations


def backfill(apps, schema_editor):
    Registration = apps.get_model("deals", "Registration")
    Referral = apps.get_model("deals", "Referral")
    referred = Registration.objects.filter(referred_by__isnull=False).order_by("pk")
    Referral.objects.bulk_create(
        [
            Referral(
                registration_id=registration.referred_by_id,
                organisation_id=registration.organisation_id,
                created_at=registration.created_at,
                created_by_id=registration.created_by_id,
            )
            for registration in referred
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("deals", "0003_referrals_as_the_sourcing_partner_made_them")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
