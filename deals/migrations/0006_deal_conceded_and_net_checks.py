# Rules 5 and 10 in the database: NOT VALID on PostgreSQL, so adding them locks nothing for long;
# 0007 validates the rows already there. Run `manage.py check_ledger` first: a deal it lists
# (a negative total, a net at or below zero) makes 0007 fail until it is put right.

from django.db import migrations, models

from deals.migration_operations import AddCheckNotValid


class Migration(migrations.Migration):

    dependencies = [
        ('deals', '0005_event_reassigned'),
    ]

    operations = [
        AddCheckNotValid(
            model_name='deal',
            constraint=models.CheckConstraint(condition=models.Q(('conceded__gte', 0)), name='deal_conceded_not_negative'),
        ),
        AddCheckNotValid(
            model_name='deal',
            constraint=models.CheckConstraint(condition=models.Q(('conceded__lt', models.F('opening_price'))), name='deal_net_positive'),
        ),
    ]
