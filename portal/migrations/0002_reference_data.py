"""Districts, the occupation catalogue and the working-day calendar, in every database."""

import datetime as dt

from django.db import migrations


def load(apps, schema_editor):
    from portal.reference_data import load_districts, load_occupations
    from portal.working_days import chinesecalendar_exceptions, chinesecalendar_years

    load_districts(apps.get_model("portal", "District"))
    load_occupations(apps.get_model("portal", "Occupation"))
    CalendarYear = apps.get_model("portal", "CalendarYear")
    CalendarDay = apps.get_model("portal", "CalendarDay")
    first_year = dt.date.today().year - 5
    for year in chinesecalendar_years():
        if year < min(first_year, 2020):
            continue
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "chinesecalendar"})
        existing = set(CalendarDay.objects.filter(date__year=year).values_list("date", flat=True))
        CalendarDay.objects.bulk_create(
            CalendarDay(date=d, is_workday=w, name=n) for d, w, n in chinesecalendar_exceptions(year) if d not in existing
        )


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
