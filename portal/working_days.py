"""Working-day arithmetic on the portal's own calendar (法定节假日 and 调休上班).

The calendar is seeded from the ``chinesecalendar`` package and extended by an
administrator for later years. A date in a year the calendar does not know raises
CalendarUnknownError: the portal never guesses a deadline.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from portal.models import CalendarDay, CalendarYear


class CalendarUnknownError(Exception):
    def __init__(self, year: int):
        self.year = year
        super().__init__(_("工作日历尚未包含%(year)s年的节假日安排，请系统管理员先维护该年度日历。") % {"year": year})


class WorkCalendar:
    """A snapshot of the calendar, loaded once, for counting many days without a query each."""

    def __init__(self) -> None:
        self.years = set(CalendarYear.objects.values_list("year", flat=True))
        self.exceptions = dict(CalendarDay.objects.values_list("date", "is_workday"))

    def is_workday(self, day: dt.date) -> bool:
        if day.year not in self.years:
            raise CalendarUnknownError(day.year)
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date ``days`` working days after ``start`` (start itself not counted)."""
        current, counted = start, 0
        while counted < days:
            current += dt.timedelta(days=1)
            if self.is_workday(current):
                counted += 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        count, current = 0, start
        while current < end:
            current += dt.timedelta(days=1)
            count += self.is_workday(current)
        return count


def is_workday(day: dt.date) -> bool:
    return WorkCalendar().is_workday(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    return WorkCalendar().add_working_days(start, days)


def chinesecalendar_exceptions(year: int) -> list[tuple[dt.date, bool, str]]:
    """Holidays on weekdays and make-up workdays of ``year`` according to chinesecalendar."""
    import chinese_calendar

    rows = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        weekday = day.weekday() < 5
        if weekday and on_holiday:
            rows.append((day, False, _holiday_label(name)))
        elif not weekday and not on_holiday:
            rows.append((day, True, "调休上班"))  # stored data, always Chinese
        day += dt.timedelta(days=1)
    return rows


def chinesecalendar_years() -> range:
    import chinese_calendar

    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _holiday_label(name: str | None) -> str:
    return _HOLIDAY_NAMES.get(name or "", name or "法定节假日")
