from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from portal.imports import OCCUPATION_COLUMNS
from portal.models import Job, JobStatus, Occupation, Role
from portal.services import job_start
from tests import factories

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in OCCUPATION_COLUMNS]


def xlsx(rows, headers=HEADERS) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("occupations.xlsx", buffer.getvalue())


def run(upload, actor, capture) -> Job:
    with capture(execute=True):
        job = job_start(kind="import_occupations", actor=actor, upload=upload)
    job.refresh_from_db()
    return job


def test_the_shipped_catalogue_holds_real_2022_entries():
    welder = Occupation.objects.get(code="6-18-02-04", work_type="")
    assert welder.name == "焊工" and welder.is_assessable and welder.national_standard
    assert Occupation.objects.filter(kind="professional").exists()
    assert Occupation.objects.filter(is_access_type=True).exists()


def test_an_administrator_imports_new_and_updated_occupations(django_capture_on_commit_callbacks):
    admin = factories.user(Role.SYSTEM_ADMIN)
    before = Occupation.objects.count()
    upload = xlsx(
        [
            ["6-18-02-04", "焊工", "", "技能类", "否", "焊工国家职业技能标准（2024年修订）", 2024, "测试"],
            ["4-99-99-01", "测试新职业", "测试工种", "技能类", "否", "", "", "人社部公告（测试）"],
        ]
    )
    job = run(upload, admin, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result == {"created": 1, "updated": 1}
    assert Occupation.objects.count() == before + 1
    welder = Occupation.objects.get(code="6-18-02-04", work_type="")
    assert welder.standard_year == 2024
    assert welder.history.latest().history_user == admin


def test_a_bad_occupation_file_is_refused_whole_naming_row_and_column(django_capture_on_commit_callbacks):
    admin = factories.user(Role.SYSTEM_ADMIN)
    before = Occupation.objects.count()
    upload = xlsx(
        [
            ["4-99-99-01", "好行", "", "技能类", "否", "", "", ""],
            ["6-18", "坏编码", "", "技能类", "否", "", "", ""],
            ["4-99-99-02", "坏类别", "", "管理类", "也许", "", "二〇二四", ""],
        ]
    )
    job = run(upload, admin, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED
    assert any(e.startswith("第3行「职业编码」") for e in job.errors)
    assert any(e.startswith("第4行「类别」") for e in job.errors)
    assert any(e.startswith("第4行「准入类职业资格」") for e in job.errors)
    assert any(e.startswith("第4行「标准版本年份」") for e in job.errors)
    assert Occupation.objects.count() == before


def test_only_a_system_administrator_may_import_the_catalogue():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        job_start(kind="import_occupations", actor=factories.user(Role.CENTRE_REVIEWER), upload=xlsx([]))


def test_the_chinese_template_imports_while_the_user_reads_the_portal_in_english(django_capture_on_commit_callbacks):
    from django.utils import translation

    admin = factories.user(Role.SYSTEM_ADMIN)
    with translation.override("en"):
        job = run(
            xlsx([["4-99-99-03", "英文界面导入", "", "技能类", "否", "", "", ""]]),
            admin,
            django_capture_on_commit_callbacks,
        )
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert Occupation.objects.get(code="4-99-99-03").kind == "skill"
