"""max_tokens auto-clamping against the loaded context length."""

from __future__ import annotations

import pytest

from xerotier.domain.clamp import clamp_max_tokens
from xerotier.errors import InvalidInput


def test_clamps_to_what_the_context_leaves():
    assert clamp_max_tokens(8192, 8000, 1000) == (192, True)
    assert clamp_max_tokens(8192, 100, 1000) == (1000, False)
    assert clamp_max_tokens(8192, 100, None) == (8092, True)
    assert clamp_max_tokens(8192, 8191, None) == (1, True)


def test_a_prompt_that_fills_the_context_is_a_clear_error():
    with pytest.raises(InvalidInput) as info:
        clamp_max_tokens(8192, 8192, 10)
    assert info.value.message == (
        "The prompt is 8192 tokens, which leaves no room in this endpoint's context length of 8192 tokens; "
        "shorten the prompt"
    )
    with pytest.raises(InvalidInput):
        clamp_max_tokens(8192, -1, 10)
    with pytest.raises(InvalidInput):
        clamp_max_tokens(8192, 1, 0)
