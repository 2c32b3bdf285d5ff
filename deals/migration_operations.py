"""Migration operations that keep a live PostgreSQL answering while a constraint is added.

A CHECK constraint added in one step scans the whole table under an ACCESS EXCLUSIVE lock.
On PostgreSQL these add it NOT VALID (new rows are checked at once, no scan) and validate it in
a later migration (a scan that lets reads and writes go on). Other databases (SQLite) get the
plain AddConstraint, since they can neither add nor validate a constraint in place.
"""

from __future__ import annotations

from django.contrib.postgres.operations import AddConstraintNotValid, ValidateConstraint
from django.db.migrations.operations import AddConstraint


class AddCheckNotValid(AddConstraintNotValid):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddConstraint.database_forwards(self, app_label, schema_editor, from_state, to_state)


class ValidateCheck(ValidateConstraint):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
