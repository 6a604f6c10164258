from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("store", "0003_request_key_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="purchase",
            name="doorstep_note",
            field=models.CharField(blank=True, default="", max_length=280),
        ),
    ]
