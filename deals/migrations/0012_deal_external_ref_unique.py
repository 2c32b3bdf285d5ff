"""A CRM reference names one deal per team.

The unique index is built CONCURRENTLY on PostgreSQL, so deals take writes while it builds; that
cannot run in a transaction, hence atomic = False. Its columns were added empty by 0010, so no
existing row can break it. SQLite has no such thing and builds it plainly.
"""

from django.db import migrations, models


class AddUniqueConstraintConcurrentlyOnPostgres(migrations.AddConstraint):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        sql = str(self.constraint.create_sql(model, schema_editor))
        schema_editor.execute(sql.replace("CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        name = schema_editor.quote_name(self.constraint.name)
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("deals", "0011_deal_external_ref"),
    ]

    operations = [
        AddUniqueConstraintConcurrentlyOnPostgres(
            model_name="deal",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_ref__isnull", False)),
                fields=("team", "external_source", "external_ref"),
                name="deal_external_ref_once_per_team",
            ),
        ),
    ]
