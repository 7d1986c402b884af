"""A real (tiny, random) Llama checkpoint built with transformers: weights, tokenizer, chat template.

Real enough for a real engine: ``AutoModelForCausalLM`` and ``AutoTokenizer`` load it and generate.
"""

from __future__ import annotations

import json
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '<|system|>' + message['content'] + eos_token }}"
    "{% elif message['role'] == 'user' %}{{ '<|user|>' + message['content'] + eos_token }}"
    "{% else %}{{ '<|assistant|>' + message['content'] + eos_token }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)
CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "a model registry serves the latest version of every model",
    "hello world, hello registry, hello router",
    "tokens stream back one by one through server sent events",
] * 20
CONTEXT_LENGTH = 256
DEFAULT_TEMPERATURE = 0.6
DEFAULT_TOP_P = 0.85


def write_tiny_llama(folder: Path, seed: int = 0, *, broken: bool = False) -> Path:
    """A 1-layer Llama (hidden 32) with a byte-level BPE tokenizer and a chat template.

    ``broken``: config.json disagrees with the weights' shapes, so transformers refuses to load it
    (validation, which reads headers only, still accepts it).
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    specials = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = CONTEXT_LENGTH
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=CONTEXT_LENGTH,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder, safe_serialization=True)
    GenerationConfig(
        temperature=DEFAULT_TEMPERATURE, top_p=DEFAULT_TOP_P, do_sample=True, eos_token_id=fast.eos_token_id
    ).save_pretrained(folder)
    if broken:
        doc = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**doc, "intermediate_size": 96}))
    return folder
