"""A deal's optional reference in a CRM (source, id), both or neither."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('deals', '0010_profile'),
    ]

    operations = [
        migrations.AddField(
            model_name='deal',
            name='external_ref',
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        migrations.AddField(
            model_name='deal',
            name='external_source',
            field=models.CharField(blank=True, max_length=40, null=True),
        ),
        migrations.AddConstraint(
            model_name='deal',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('external_ref__isnull', True), ('external_source__isnull', True)), models.Q(('external_ref__isnull', False), ('external_source__isnull', False)), _connector='OR'), name='deal_external_ref_whole'),
        ),
    ]
