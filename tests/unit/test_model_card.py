"""The model card's body: front matter removed, everything else kept as written."""

from xerotier.catalog.models.card import strip_front_matter


def test_front_matter_is_removed():
    text = "---\nlicense: mit\ntags: [a]\n---\n\n# Title\n\nBody ---\n"
    assert strip_front_matter(text) == "# Title\n\nBody ---\n"


def test_a_card_without_front_matter_is_unchanged():
    assert strip_front_matter("# Title\n---\nrule above") == "# Title\n---\nrule above"


def test_an_unclosed_front_matter_is_kept():
    assert strip_front_matter("---\nlicense: mit\n# no end") == "---\nlicense: mit\n# no end"
