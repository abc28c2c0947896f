"""Majors must correspond to the occupation (issue 7, item 5): the catalogue, the selectors, the import."""

from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from portal import selectors
from portal.imports import MAJOR_OCCUPATION_COLUMNS, major_occupation_import
from portal.models import CatalogueMajor, Job, JobStatus, MajorLevel, MajorOccupation, Occupation, Role
from portal.services import job_start
from schools.demo import SCHOOLS
from tests import factories

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in MAJOR_OCCUPATION_COLUMNS]
SOURCE = "《职业教育专业简介（2022年修订）》职业面向（测试）"


def xlsx(rows, headers=HEADERS) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("专业职业对应.xlsx", buffer.getvalue())


def run(upload, actor, capture) -> Job:
    with capture(execute=True):
        job = job_start(kind="import_major_occupations", actor=actor, upload=upload)
    job.refresh_from_db()
    return job


def occupation(code: str, work_type: str = "") -> Occupation:
    return Occupation.objects.get(code=code, work_type=work_type)


def test_the_shipped_catalogue_holds_2021_majors_at_their_levels_with_sources():
    mechatronics = CatalogueMajor.objects.get(code="460301")
    assert (mechatronics.name, mechatronics.level) == ("机电一体化技术", MajorLevel.HIGHER)
    assert (mechatronics.category, mechatronics.major_class) == ("装备制造大类", "自动化类")
    assert CatalogueMajor.objects.get(code="730701").level == MajorLevel.SECONDARY
    assert CatalogueMajor.objects.get(code="260102").level == MajorLevel.UNDERGRADUATE
    assert all(m.source for m in CatalogueMajor.objects.all())
    assert all(link.source for link in MajorOccupation.objects.all())
    shipped = set(Occupation.objects.values_list("code", flat=True))
    assert set(MajorOccupation.objects.values_list("occupation_code", flat=True)) <= shipped


def test_rule_major_corresponds_to_occupation():
    """院校设有与评价项目相对应的专业: not any active major (直播销售员 is not 建筑工程技术's)."""
    live_seller = occupation("4-01-06-02", "直播销售员")
    assert selectors.major_corresponds("530701", live_seller)  # 电子商务: every work type of 互联网营销师
    assert selectors.major_corresponds("730702", occupation("4-01-06-02"))
    assert not selectors.major_corresponds("440301", live_seller)  # 建筑工程技术
    assert not selectors.major_corresponds("999999", live_seller)  # not in the catalogue


def test_the_submit_check_names_the_majors_that_do_not_correspond_in_one_query(django_assert_num_queries):
    electrician = occupation("6-31-01-03")
    with django_assert_num_queries(1):
        missing = selectors.major_codes_not_corresponding(
            major_codes=["460301", "440301", " 660301 ", "123456"], occupation=electrician
        )
    assert missing == ["123456", "440301"]
    with django_assert_num_queries(0):
        assert selectors.major_codes_not_corresponding(major_codes=[], occupation=electrician) == []
    with django_assert_num_queries(1):
        codes = selectors.corresponding_occupation_codes(["460301", "530701"])
    assert {"6-31-01-03", "4-01-06-02"} <= codes and "6-29-01-01" not in codes


def test_an_inactive_catalogue_major_corresponds_to_nothing():
    CatalogueMajor.objects.filter(code="460301").update(is_active=False)
    assert not selectors.major_corresponds("460301", occupation("6-31-01-03"))


def test_demo_majors_are_catalogue_majors_at_their_level():
    catalogue = {m.code: m for m in CatalogueMajor.objects.all()}
    for _slug, _name, _type, _district, _through, majors in SCHOOLS:
        for code, name, level, _is_through in majors:
            assert code in catalogue, code
            assert (catalogue[code].name, catalogue[code].level) == (name, level), code


def test_an_administrator_imports_a_correspondence_with_its_source(django_capture_on_commit_callbacks):
    admin = factories.user(Role.SYSTEM_ADMIN)
    upload = xlsx(
        [
            ["460301", "机电一体化技术", "高职专科", "装备制造大类", "自动化类", "6-31-01-03", SOURCE],
            ["460301", "机电一体化技术", "高职专科", "装备制造大类", "自动化类", "6-31-07-03", SOURCE],
            ["460107", "材料成型及控制技术", "高职专科", "装备制造大类", "机械设计制造类", "6-18-02-04", SOURCE],
        ]
    )
    job = run(upload, admin, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result == {"majors_created": 1, "majors_updated": 1, "created": 1, "updated": 2, "removed": 2}
    # 460301's occupations are now exactly the file's: the shipped 6-20-03-01 and 6-31-07-01 were removed.
    assert set(
        MajorOccupation.objects.filter(major__code="460301").values_list("occupation_code", flat=True)
    ) == {"6-31-01-03", "6-31-07-03"}
    removed = MajorOccupation.history.filter(history_type="-")
    assert {r.occupation_code for r in removed} == {"6-20-03-01", "6-31-07-01"}
    assert {r.history_user for r in removed} == {admin}
    link = MajorOccupation.objects.get(major__code="460107", occupation_code="6-18-02-04")
    assert link.source == SOURCE and link.history.latest().history_user == admin
    assert selectors.major_corresponds("460107", occupation("6-18-02-04"))


def test_a_bad_correspondence_file_is_refused_whole_naming_row_and_column(django_capture_on_commit_callbacks):
    admin = factories.user(Role.SYSTEM_ADMIN)
    before = (CatalogueMajor.objects.count(), MajorOccupation.objects.count())
    upload = xlsx(
        [
            ["460301", "机电一体化技术", "高职专科", "装备制造大类", "自动化类", "6-31-01-03", SOURCE],
            ["4603", "坏代码", "本科", "装备制造大类", "自动化类", "6-31-01", ""],
            ["460301", "机电一体化", "高职专科", "装备制造大类", "自动化类", "4-99-99-99", SOURCE],
            ["460301", "机电一体化技术", "高职专科", "装备制造大类", "自动化类", "6-31-01-03", SOURCE],
        ]
    )
    job = run(upload, admin, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED
    errors = job.errors
    assert any(e.startswith("第3行「专业代码」") for e in errors)
    assert any(e.startswith("第3行「培养层次」") for e in errors)
    assert any(e.startswith("第3行「职业编码」") and "大类-中类-小类-细类" in e for e in errors)
    assert any(e.startswith("第3行「数据来源」：不能为空") for e in errors)
    assert any(e.startswith("第4行「职业编码」") and "不在职业（工种）目录中" in e for e in errors)
    assert any(e.startswith("第4行「专业代码」") and "与第2行不一致" in e for e in errors)
    assert any(e.startswith("第5行「职业编码」") and "与第2行的对应关系重复" in e for e in errors)
    assert (CatalogueMajor.objects.count(), MajorOccupation.objects.count()) == before


def test_a_file_without_the_template_headers_is_refused(django_capture_on_commit_callbacks):
    admin = factories.user(Role.SYSTEM_ADMIN)
    job = run(xlsx([["460301"]], headers=["专业"]), admin, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED and job.errors


def test_only_a_system_administrator_may_import_the_correspondence():
    staff = factories.user(Role.CENTRE_REVIEWER)
    with pytest.raises(PermissionDenied):
        major_occupation_import(actor=staff, rows=[])


def test_the_catalogue_page_lists_majors_with_their_occupations(client):
    client.force_login(factories.user(Role.SCHOOL_STAFF))
    response = client.get("/reference/majors/", {"q": "6-31-01-03"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "机电一体化技术" in body and "建筑工程技术" not in body
