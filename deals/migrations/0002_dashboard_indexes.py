"""Indexes for the manager's dashboard: the period's deals of the managed teams, and each deal's
gives, retractions and gives without a get, counted from indexes alone.

Built CONCURRENTLY on PostgreSQL, so the ledger takes writes while they build; that cannot run
in a transaction, hence atomic = False. SQLite has no such thing and builds them plainly.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("deals", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="concession",
            index=models.Index(fields=["deal", "retracts"], name="concession_deal_retracts"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="concession",
            index=models.Index(
                condition=models.Q(("got_in_return", ""), ("retracts__isnull", True)),
                fields=["deal"],
                name="concession_deal_no_get",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="deal",
            index=models.Index(fields=["team", "created_at"], name="deal_team_created"),
        ),
    ]
