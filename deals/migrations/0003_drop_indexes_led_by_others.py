"""Drop the indexes Django gave four foreign keys of their own: each is the leading column of
an index the queries use (deal_owner_*, deal_team_*, concession_deal_order, event_deal_newest),
so they answered nothing the others could not, and every write to those tables paid for them.

Only the indexes go. Django's AlterField would also drop and re-add each foreign key, which
checks every row of the table again under lock; the constraints stay as they are. On
PostgreSQL the indexes are dropped CONCURRENTLY, so the tables keep taking writes meanwhile;
that cannot run in a transaction, hence atomic = False.
"""

from django.conf import settings
from django.db import migrations, models

# (table, column, the index's name as Django generated it for the foreign key)
INDEXES = [
    ("deals_concession", "deal_id", "deals_concession_deal_id_01d15c45"),
    ("deals_deal", "owner_id", "deals_deal_owner_id_2f09ac61"),
    ("deals_deal", "team_id", "deals_deal_team_id_94533c8a"),
    ("deals_dealevent", "deal_id", "deals_dealevent_deal_id_1654e502"),
]


def _concurrently(schema_editor) -> str:
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def drop_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for _table, _column, name in INDEXES:
        schema_editor.execute(f"DROP INDEX{_concurrently(schema_editor)} IF EXISTS {quote(name)}")


def create_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for table, column, name in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX{_concurrently(schema_editor)} IF NOT EXISTS {quote(name)} "
            f"ON {quote(table)} ({quote(column)})"
        )


def _without_index(model_name: str, name: str, related_name: str, to: str):
    return migrations.AlterField(
        model_name=model_name,
        name=name,
        field=models.ForeignKey(
            db_index=False, on_delete=models.deletion.PROTECT, related_name=related_name, to=to
        ),
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("deals", "0002_dashboard_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                _without_index("concession", "deal", "concessions", "deals.deal"),
                _without_index("deal", "owner", "owned_deals", settings.AUTH_USER_MODEL),
                _without_index("deal", "team", "deals", "deals.team"),
                _without_index("dealevent", "deal", "events", "deals.deal"),
            ],
            database_operations=[
                migrations.RunPython(drop_indexes, create_indexes, elidable=False),
            ],
        ),
    ]
