"""Excel reading and writing shared by every import: templates, header checks, row errors.

A file is refused as a whole when anything is wrong: every message names the row (as Excel
numbers it) and the column, and the caller writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from portal.security import attachment_disposition

MAX_ROWS = 20_000
MAX_LISTED_ERRORS = 200
# Decompression bombs: a filled 20,000-row student template unpacks to about 11 MB (ratio ~18).
# Refuse by the sizes the zip declares before openpyxl parses anything; zipfile never inflates a
# member past its declared size (the CRC check fails instead), so the declaration is binding.
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_PACKED_RATIO = 100
MAX_MEMBERS = 200
MAX_SHOWN_TEXT = 40
# The sheet's declared dimension is not trusted either (a few bytes can claim A1:XFD1048576):
# columns past MAX_COLUMNS are not read, and a sheet reaching past row MAX_SHEET_ROW is refused.
MAX_COLUMNS = 64
MAX_SHEET_ROW = 5 * MAX_ROWS
YES, NO = "是", "否"
TEXT_FORMAT = "@"
PASTE_NOTE = (
    "从其他表格粘贴号码时请用“选择性粘贴 → 值”，并保持号码列为文本格式；"
    "否则 Excel 会把18位证件号码变成科学计数法并丢失末尾数字。"
)
# How Excel shows a long number in a General cell, e.g. 3.1011E+17 (also typed or pasted as text).
SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()
    # Identifiers (ID numbers, student numbers, codes): the template formats the column as text
    # ("@"), so Excel keeps every digit instead of turning 310110200601011234 into 3.1011E+17.
    text: bool = False


class RowErrors:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.count = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.count += 1
        if len(self.messages) >= MAX_LISTED_ERRORS:
            return
        # The place is one translatable phrase, so English reads "Row 2, column “学号”: " with its own punctuation.
        if row is not None and column:
            where = _("第%(row)s行「%(column)s」：") % {"row": row, "column": shorten(column)}
        elif row is not None:
            where = _("第%(row)s行：") % {"row": row}
        elif column:
            where = _("「%(column)s」：") % {"column": shorten(column)}
        else:
            where = ""
        self.messages.append(where + message)

    def final(self) -> list[str]:
        extra = self.count - len(self.messages)
        if extra > 0:
            return [*self.messages, _("……另有%(n)s处错误未列出。") % {"n": extra}]
        return self.messages

    def __bool__(self) -> bool:
        return self.count > 0


# --- Templates -------------------------------------------------------------------------


def build_template(columns: tuple[Column, ...], title: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for idx, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=idx, value=col.header)
        cell.font = Font(bold=True, color="C00000" if col.required else "000000")
        cell.fill = header_fill
        ws.column_dimensions[cell.column_letter].width = max(14, len(col.header) * 3)
        if col.text:
            # A column style, as Excel writes it when a whole column is formatted as text.
            ws.column_dimensions[cell.column_letter].number_format = TEXT_FORMAT
        if col.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=not col.required)
            dv.add(f"{cell.column_letter}2:{cell.column_letter}{MAX_ROWS + 1}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "说明", "可选值"])
    for col in columns:
        help_text = col.help + ("（本列为文本格式，请勿改为数字）" if col.text else "")
        notes.append([col.header, "必填" if col.required else "选填", help_text, "、".join(col.choices)])
    notes.append([])
    notes.append(["从第2行起每行一条记录；请勿修改第1行列名。文件中任何一行有误，整个文件都不会导入。"])
    notes.append([PASTE_NOTE])
    notes.column_dimensions["C"].width = 40
    notes.column_dimensions["D"].width = 40
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- Reading ---------------------------------------------------------------------------


def number_shown(value: Any) -> str | None:
    """How Excel shows an identifier that reached us as a number ("3.1011E+17"), else None.

    Excel keeps 15 significant digits: an 18-digit ID number typed into a General cell becomes
    a number whose last digits are 0 and cannot be recovered. openpyxl then hands over an int or
    float; a sheet converted to text on the way hands over its scientific notation.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return f"{value:.5G}" if abs(value) >= 1e11 else cell_text(value)
    if isinstance(value, str) and SCIENTIFIC.fullmatch(value.strip()):
        return value.strip()
    return None


def number_identifier_message(shown: str, *, again: bool = False) -> str:
    """The message for an identifier that arrived as a number: what happened and how to fix it
    (``again``: a shorter one for the rows after the first, which already said how)."""
    if again:
        return _("同样被 Excel 存成了数字（显示为 %(shown)s），请按上面的方法改正。") % {"shown": shown}
    return _(
        "该号码被 Excel 存成了数字（显示为 %(shown)s），超过15位的数字会丢失末尾几位，无法还原。"
        "请把这一列的单元格格式设为“文本”后重新输入号码，或使用下载的模板（号码列已设为文本）填写。"
    ) % {"shown": shown}


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


# What openpyxl raises for a zip that is not a sound workbook (missing parts, broken XML).
BROKEN_WORKBOOK_ERRORS = (
    InvalidFileException,
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    OSError,
    IndexError,
    TypeError,
    SyntaxError,
)


def shorten(text: str) -> str:
    """A cell's text for an error message: a header of a million characters is not repeated."""
    return text if len(text) <= MAX_SHOWN_TEXT else text[: MAX_SHOWN_TEXT - 1] + "…"


def unpacks_too_large(data: bytes) -> bool:
    """True when the zip declares more than an import can hold (a decompression bomb)."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            return True
        if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
            return True
        return any(m.file_size > 1024 * 1024 and m.file_size > MAX_PACKED_RATIO * m.compress_size for m in members)


def read_sheet(data: bytes, columns: tuple[Column, ...], errors: RowErrors) -> list[tuple[int, dict[str, Any]]]:
    """Rows of the first sheet as (excel_row_number, {key: raw value}); file-level problems go to errors."""
    if zipfile.is_zipfile(BytesIO(data)):
        try:
            if unpacks_too_large(data):
                too_large = _("文件解压后超过 %(mb)s MB，不是正常的导入文件，已拒绝。请使用下载的模板填写后上传。")
                errors.add(None, None, too_large % {"mb": MAX_UNPACKED_BYTES // (1024 * 1024)})
                return []
            return _read_sheet(data, columns, errors)
        except BROKEN_WORKBOOK_ERRORS:  # xml ParseError is a SyntaxError
            pass
    errors.add(None, None, _("文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传。"))
    return []


def _read_sheet(data: bytes, columns: tuple[Column, ...], errors: RowErrors) -> list[tuple[int, dict[str, Any]]]:
    wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
    ws = wb.worksheets[0]
    ws.reset_dimensions()
    header_row = next(ws.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS, values_only=True), None)
    headers = [cell_text(v) for v in (header_row or ())]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        errors.add(None, None, _("工作表为空：第1行应为列名，第2行起为数据。"))
        return []
    known = {c.header: c for c in columns}
    for position, header in enumerate(headers, start=1):
        if header and header not in known:
            errors.add(1, header, _("无法识别的列名（第%(n)s列），请使用模板中的列名。") % {"n": position})
    duplicates = {h for h in headers if h and headers.count(h) > 1}
    for header in sorted(duplicates):
        errors.add(1, header, _("列名重复。"))
    missing = [c.header for c in columns if c.header not in headers]
    for header in missing:
        errors.add(1, header, _("缺少此列。"))
    if errors:
        return []
    index = {h: i for i, h in enumerate(headers) if h}
    out: list[tuple[int, dict[str, Any]]] = []
    rows = ws.iter_rows(min_row=2, max_col=len(headers), values_only=True)
    for number, values in enumerate(rows, start=2):
        if number > MAX_SHEET_ROW:
            too_long = _("工作表超过第 %(max)s 行，请删除多余的行或拆分后分别导入。")
            errors.add(None, None, too_long % {"max": MAX_SHEET_ROW})
            return []
        values = tuple(values or ())
        if all(cell_text(v) == "" for v in values):
            continue
        if len(out) >= MAX_ROWS:
            errors.add(number, None, _("超过单个文件 %(max)s 行的上限，请拆分后分别导入。") % {"max": MAX_ROWS})
            return []
        out.append(
            (number, {c.key: values[index[c.header]] if index[c.header] < len(values) else None for c in columns})
        )
    wb.close()
    if not out:
        errors.add(None, None, _("工作表中没有数据行（第2行起）。"))
    return out


def sheet_label(member) -> str:
    """The Chinese label a template cell holds, whatever language the user reads the portal in."""
    with translation.override("zh-hans"):
        return str(member.label)


def choice(value: str, choices_enum, column: Column, row: int, errors: RowErrors) -> str | None:
    for member in choices_enum:
        if value == sheet_label(member):
            return member.value
    errors.add(row, column.header, _("“%(v)s”不是可选值（%(c)s）。") % {"v": value, "c": "、".join(column.choices)})
    return None


def required_text(raw: dict, columns: tuple[Column, ...], row: int, errors: RowErrors) -> dict[str, str]:
    text = {c.key: cell_text(raw.get(c.key)) for c in columns}
    for c in columns:
        if c.required and not text[c.key]:
            errors.add(row, c.header, _("不能为空。"))
    return text


# --- Exports ----------------------------------------------------------------------------------

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_sheet(wb: Workbook, title: str, columns, *, first: bool = False, freeze: bool = False):
    """A sheet whose first row names ``columns`` ((header, width) pairs), with their widths; bold
    headers except in a write-only workbook (which cannot style a row after writing it). ``first``
    reuses the workbook's initial sheet."""
    ws = wb.active if first and not wb.write_only else wb.create_sheet(title)
    if not wb.write_only:
        ws.title = title
    for i, (_header, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.append([header for header, _width in columns])
    if not wb.write_only:
        for cell in ws[1]:
            cell.font = Font(bold=True)
    if freeze:
        ws.freeze_panes = "A2"
    return ws


def xlsx_response(data: bytes | Workbook, name: str) -> HttpResponse:
    """An Excel download named ``name`` (any script; ASCII fallback and RFC 5987 name)."""
    if isinstance(data, Workbook):
        out = BytesIO()
        data.save(out)
        data = out.getvalue()
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = attachment_disposition(name)
    return response
