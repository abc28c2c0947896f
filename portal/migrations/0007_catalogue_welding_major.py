"""The higher-vocational welding major 460110 智能焊接技术 and its occupation 焊工 (6-18-02-04)."""

from django.db import migrations


def load(apps, schema_editor):
    from portal.reference_data import load_majors

    load_majors(apps.get_model("portal", "CatalogueMajor"), apps.get_model("portal", "MajorOccupation"))


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_reference_data_2021_lists")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
