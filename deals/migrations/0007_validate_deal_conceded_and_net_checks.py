# Validates 0006's constraints on the rows already stored: a scan under SHARE UPDATE EXCLUSIVE,
# which lets the app read and write meanwhile. Nothing to do on SQLite.

from django.db import migrations

from deals.migration_operations import ValidateCheck


class Migration(migrations.Migration):

    dependencies = [
        ('deals', '0006_deal_conceded_and_net_checks'),
    ]

    operations = [
        ValidateCheck(model_name='deal', name='deal_conceded_not_negative'),
        ValidateCheck(model_name='deal', name='deal_net_positive'),
    ]
