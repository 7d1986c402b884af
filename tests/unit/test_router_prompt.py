"""The router's prompt accounting: the chat template renders as transformers renders it, tokens are
counted with the model's own tokenizer, max_tokens is clamped and defaults filled (pure)."""

from __future__ import annotations

import pytest

from support.tiny_llama import CHAT_TEMPLATE, write_tiny_llama
from xerotier.errors import InvalidInput
from xerotier.router.prompt import count_tokens, render_chat, special_tokens_of, tokenizer_from_json
from xerotier.router.sampling import prepare_body

MESSAGES = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hello registry"},
    {"role": "assistant", "content": "hello"},
    {"role": "user", "content": "the quick brown fox"},
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("tiny"))


def test_rendering_and_counting_agree_with_transformers(tiny):
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(tiny)
    expected = reference.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    specials = special_tokens_of({"bos_token": "<s>", "eos_token": {"content": "</s>"}})
    assert render_chat(CHAT_TEMPLATE, MESSAGES, specials) == expected
    tokenizer = tokenizer_from_json((tiny / "tokenizer.json").read_text())
    ids = reference.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=True)
    ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
    assert count_tokens(tokenizer, expected, add_special_tokens=False) == len(ids)


def test_a_template_that_raises_is_a_400():
    template = "{{ raise_exception('roles must alternate') }}"
    with pytest.raises(InvalidInput, match="roles must alternate"):
        render_chat(template, MESSAGES, {})


def test_the_sandbox_refuses_unsafe_templates():
    with pytest.raises(Exception):  # noqa: B017  (jinja2's SecurityError)
        render_chat("{{ messages.__class__.__mro__ }}{{ ''.__class__.__subclasses__() }}", MESSAGES, {})


def _prepare(body, prompt_tokens=10, context=100, temperature=0.6, top_p=0.9):
    return prepare_body(
        body,
        served_name="m:1.0.0",
        context_length=context,
        prompt_tokens=prompt_tokens,
        default_temperature=temperature,
        default_top_p=top_p,
    )


def test_max_tokens_is_clamped_to_the_room_left():
    assert _prepare({"model": "ep", "max_tokens": 500})["max_tokens"] == 90
    assert _prepare({"model": "ep", "max_tokens": 5})["max_tokens"] == 5
    assert _prepare({"model": "ep"})["max_tokens"] == 90  # unset: as many as fit
    assert _prepare({"model": "ep", "max_completion_tokens": 500})["max_completion_tokens"] == 90


def test_a_prompt_that_fills_the_context_is_refused_with_the_numbers():
    with pytest.raises(InvalidInput, match=r"The prompt is 100 tokens.*context length of 100 tokens"):
        _prepare({"model": "ep"}, prompt_tokens=100)
    with pytest.raises(InvalidInput, match="max_tokens must be a positive integer"):
        _prepare({"model": "ep", "max_tokens": "lots"})


def test_defaults_fill_only_what_is_missing():
    filled = _prepare({"model": "ep"})
    assert (filled["temperature"], filled["top_p"], filled["model"]) == (0.6, 0.9, "m:1.0.0")
    kept = _prepare({"model": "ep", "temperature": 0.0, "top_p": 1.0})
    assert (kept["temperature"], kept["top_p"]) == (0.0, 1.0)
    none = _prepare({"model": "ep"}, temperature=None, top_p=None)
    assert "temperature" not in none and "top_p" not in none


def test_without_a_tokenizer_nothing_is_clamped():
    assert _prepare({"model": "ep", "max_tokens": 10**6}, prompt_tokens=None)["max_tokens"] == 10**6
