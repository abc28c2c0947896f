"""Reference data as the notice and the national lists have it (issue 7, item 11)."""

import json

import pytest

from portal.models import Occupation
from portal.reference_data import FIXTURES, fix_fire_facility_operator_code, load_occupations

pytestmark = pytest.mark.django_db

# 国家职业资格目录（2021年版）, 二、技能人员职业资格, with the occupation's code in the 2022 edition.
ACCESS_TYPE_2021 = {
    "4-07-05-01": ("保安员", "保安员"),
    "3-02-03-01": ("消防员", "消防员"),
    "3-02-03-06": ("森林消防员", "森林消防员"),
    "3-02-03-08": ("应急救援员", "应急救援员"),
    "4-07-05-03": ("消防设施操作员", "消防设施操作员"),
    "4-02-04-01": ("民航乘务员", "民航乘务员"),
    "4-02-04-03": ("机场运行指挥员", "机场运行指挥员"),
    "4-02-01-01": ("轨道交通列车司机", "轨道列车司机"),
    "4-14-05-03": ("游泳救生员", "游泳救生员"),
    "5-03-01-01": ("家畜繁殖员", "家畜繁殖员"),
}


def test_reference_fire_facility_operator_is_4_07_05_03():
    operator = Occupation.objects.get(name="消防设施操作员")
    assert operator.code == "4-07-05-03"
    assert not Occupation.objects.filter(code="4-07-05-04", name="消防设施操作员").exists()
    assert "4-07-05-04 为安全防范系统安装维护员" in operator.source


def test_an_existing_database_moves_the_fire_facility_operator_in_place():
    operator = Occupation.objects.get(name="消防设施操作员")
    Occupation.objects.filter(pk=operator.pk).update(code="4-07-05-04")
    fix_fire_facility_operator_code(Occupation)
    load_occupations(Occupation)  # the migration's second step: idempotent, no duplicate row
    operator.refresh_from_db()
    assert operator.code == "4-07-05-03" and operator.is_active
    assert Occupation.objects.filter(name="消防设施操作员").count() == 1


def test_access_type_occupations_of_the_2021_list_are_marked():
    for code, (name, listed_as) in ACCESS_TYPE_2021.items():
        occupation = Occupation.objects.get(code=code, work_type="")
        assert occupation.name == name
        assert occupation.is_access_type and not occupation.is_assessable, code
        assert "国家职业资格目录（2021年版）" in occupation.source, code
        assert f"「{listed_as}」" in occupation.source, code


def test_every_access_type_row_cites_the_2021_list_and_nothing_else_is_marked():
    marked = set(Occupation.objects.filter(is_access_type=True).values_list("code", flat=True))
    assert marked == set(ACCESS_TYPE_2021)
    # The exclusion is of the qualification, not of an occupation like 电工 or 焊工 (DOMAIN.md).
    assert Occupation.objects.get(code="6-31-01-03", work_type="").is_assessable
    assert Occupation.objects.get(code="6-18-02-04", work_type="").is_assessable


@pytest.mark.parametrize(
    "code, year",
    [("4-03-02-07", 2018), ("4-03-02-02", 2018), ("6-31-07-03", 2020), ("6-31-07-01", 2020), ("4-07-05-01", 2019)],
)
def test_published_national_standards_are_recorded_with_their_year_and_source(code, year):
    occupation = Occupation.objects.get(code=code, work_type="")
    assert occupation.has_national_standard and occupation.standard_year == year
    assert "standard: http" in occupation.source


def test_the_tea_art_standard_of_2018_is_recorded():
    tea = Occupation.objects.get(code="4-03-02-07", work_type="")
    assert tea.name == "茶艺师"
    assert tea.national_standard == "茶艺师国家职业技能标准（2018年版）" and tea.standard_year == 2018


def test_every_shipped_occupation_cites_its_source():
    rows = json.load(open(FIXTURES / "occupations.json", encoding="utf-8"))
    assert all(row["fields"]["source"] for row in rows)
    keys = [(row["fields"]["code"], row["fields"]["work_type"]) for row in rows]
    assert len(keys) == len(set(keys))
