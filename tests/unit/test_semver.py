import pytest

from xerotier.domain.semver import Version
from xerotier.errors import InvalidInput


def test_precedence_follows_the_semver_spec_example():
    # semver.org §11: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta
    #                 < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
        "10.0.0",
    ]
    parsed = [Version.parse(v) for v in ordered]
    assert sorted(reversed(parsed)) == parsed


def test_build_metadata_is_ignored_for_precedence_and_round_trips():
    a, b = Version.parse("1.0.0+a"), Version.parse("1.0.0+b.7")
    assert a == b and not a < b
    assert str(b) == "1.0.0+b.7"


def test_numbers_beyond_64_bits():
    big = Version.parse("18446744073709551616.0.0")
    assert big > Version.parse("18446744073709551615.99.99")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("v1.0.0", "leading 'v'"),
        ("01.0.0", "leading zero"),
        ("1.0", "three"),
        ("1.0.0-01", "leading zeros"),
        ("1.0.0-", "pre-release"),
        ("", "empty"),
        ("1.a.0", "not a non-negative integer"),
    ],
)
def test_invalid_versions_say_why(text, why):
    with pytest.raises(InvalidInput) as err:
        Version.parse(text)
    assert why in err.value.message
