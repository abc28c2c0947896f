import pytest
from django.core.exceptions import ValidationError

from portal.validators import (
    id_number_check_char,
    make_uscc,
    organisation_code_check_char,
    uscc_check_char,
    validate_resident_id_number,
    validate_uscc,
)
from tests.factories import id_number, uscc


def test_gb11643_check_character_matches_the_standard_example():
    # GB 11643-1999 appendix example: 11010519491231002X
    assert id_number_check_char("11010519491231002") == "X"
    validate_resident_id_number("11010519491231002X")
    validate_resident_id_number("11010519491231002x")  # lower-case x is normalised


@pytest.mark.parametrize(
    "value, code",
    [
        ("110105194912310021", "check_digit"),
        ("11010519491331002X", "birth_date"),
        ("1101051949123100", "format"),
        ("11010519491231002Y", "format"),
        ("", "format"),
    ],
)
def test_gb11643_rejects_bad_numbers_with_a_reason(value, code):
    with pytest.raises(ValidationError) as exc:
        validate_resident_id_number(value)
    assert exc.value.code == code


def test_generated_demo_and_test_id_numbers_pass_gb11643():
    for n in range(200):
        validate_resident_id_number(id_number(n))


def test_gb32100_check_character_matches_a_published_code():
    assert uscc_check_char("91350100M000100Y4") == "3"
    validate_uscc("91350100M000100Y43")


@pytest.mark.parametrize(
    "value", ["91350100M000100Y44", "91350100M000100Y4", "9135O100M000100Y43", "I1350100M000100Y43"]
)
def test_gb32100_rejects_bad_codes(value):
    with pytest.raises(ValidationError):
        validate_uscc(value)


def test_generated_school_credit_codes_pass_gb32100():
    for n in range(100):
        validate_uscc(uscc(n))


def test_gb11714_check_character_matches_published_organisation_codes():
    # 91350100M000100Y43: its organisation code is M000100Y-4.
    assert organisation_code_check_char("M000100Y") == "4"
    # Weights 3,7,9,10,5,8,4,2: 4×3 = 12 leaves 1, so the check is 10, written X; 0 leaves 0, written 0.
    assert organisation_code_check_char("40000000") == "X"
    assert organisation_code_check_char("00000000") == "0"


def test_rule_uscc_embedded_organisation_code_passes_gb_11714():
    """Characters 9–17 of a unified social credit code are a GB 11714 organisation code with its own check."""
    first17 = "12310000" + "50000001" + "9"  # a wrong organisation check character
    assert organisation_code_check_char("50000001") != "9"
    code = first17 + uscc_check_char(first17)  # the GB 32100 check passes
    with pytest.raises(ValidationError) as exc:
        validate_uscc(code)
    assert exc.value.code == "organisation_check_digit"
    assert "第9至17位" in exc.value.messages[0]
    validate_uscc(make_uscc("12310000", "50000001"))


def test_generated_demo_scale_and_test_credit_codes_pass_both_checks():
    from schools.demo import SCHOOLS, demo_uscc
    from schools.scale import scale_uscc

    codes = [uscc(n) for n in range(300)]
    codes += [demo_uscc(i) for i in range(1, len(SCHOOLS) + 1)]
    codes += [scale_uscc(batch, i) for batch in (1, 7) for i in range(200)]
    for code in codes:
        validate_uscc(code)
        assert organisation_code_check_char(code[8:16]) == code[16]
    assert len(set(codes)) == len(codes)
