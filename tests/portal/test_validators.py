import pytest
from django.core.exceptions import ValidationError

from portal.validators import id_number_check_char, uscc_check_char, validate_resident_id_number, validate_uscc
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
