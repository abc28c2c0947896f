"""Reference data corrected and extended (issue 7, item 5 and 11), in every database.

消防设施操作员 moves to its 2022 code 4-07-05-03; the access-type occupations of the 国家职业资格目录
（2021年版） and more published national standards come in with the occupation fixture; the major
catalogue of 职业教育专业目录（2021年） and its major–occupation correspondence are loaded. Reversing
leaves the data as it is (the schema migration before this one drops the new tables).
"""

from django.db import migrations


def load(apps, schema_editor):
    from portal.reference_data import fix_fire_facility_operator_code, load_majors, load_occupations

    Occupation = apps.get_model("portal", "Occupation")
    fix_fire_facility_operator_code(Occupation)
    load_occupations(Occupation)
    load_majors(apps.get_model("portal", "CatalogueMajor"), apps.get_model("portal", "MajorOccupation"))


class Migration(migrations.Migration):
    dependencies = [("portal", "0005_catalogue_majors")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
