"""The malicious-pickle suite: imports outside the allowlist are refused, by name, without unpickling."""

from __future__ import annotations

import io

import pytest

from support import pickles
from xerotier.errors import ValidationFailed
from xerotier.validation.pickle_scan import scan_checkpoint

STATE = {"model.embed_tokens.weight": (8, 4), "lm_head.weight": (8, 4)}


def scan(blob: bytes, name: str = "pytorch_model.bin"):
    return scan_checkpoint(io.BytesIO(blob), len(blob), name)


def refused(blob: bytes, name: str = "pytorch_model.bin") -> str:
    with pytest.raises(ValidationFailed) as err:
        scan(blob, name)
    message = err.value.message
    assert message.startswith(name) and "\n" not in message and "Traceback" not in message
    return message


def test_a_zip_state_dict_passes_and_lists_its_imports():
    result = scan(pickles.zip_checkpoint(pickles.torch_state_dict(STATE)))
    assert result.streams == 1
    assert ("torch._utils", "_rebuild_tensor_v2") in result.globals
    assert ("torch", "HalfStorage") in result.globals


def test_a_legacy_state_dict_passes_all_five_pickles():
    result = scan(pickles.legacy_checkpoint(pickles.torch_state_dict(STATE)))
    assert result.streams == 5
    assert ("collections", "OrderedDict") in result.globals


@pytest.mark.parametrize(
    ("module", "name", "args"),
    [
        ("os", "system", ("echo pwned",)),
        ("builtins", "exec", ("import os",)),
        ("subprocess", "Popen", ("id",)),
    ],
)
@pytest.mark.parametrize("container", ["raw", "zip", "legacy", "nested"])
def test_dangerous_imports_are_named(module, name, args, container):
    if container == "raw":
        blob = pickles.payload(module, name, *args)
    elif container == "zip":
        blob = pickles.zip_checkpoint(pickles.payload(module, name, *args))
    elif container == "legacy":
        blob = pickles.legacy_checkpoint(pickles.payload(module, name, *args))
    else:  # hidden as one more value inside an otherwise normal state dict
        blob = pickles.zip_checkpoint(pickles.torch_state_dict(STATE, pickles.call(module, name, *args)))
    message = refused(blob)
    assert f"imports {module}.{name}, which is not allowed" in message


def test_stack_global_with_memoized_strings_is_resolved():
    message = refused(pickles.payload_stack_global_memo("os", "system", "id"))
    assert "imports os.system" in message


def test_stack_global_with_a_computed_name_is_refused():
    assert "computed at load time" in refused(pickles.payload_computed_stack_global())


def test_protocol_zero_without_magic_is_still_scanned():
    assert "imports posix.system" in refused(pickles.payload_protocol0("posix", "system", "id"))


def test_inst_opcode_is_scanned():
    assert "imports os.system" in refused(pickles.payload_inst("os", "system", "id"))


def test_malicious_second_pickle_in_the_zip_is_found():
    blob = pickles.zip_checkpoint(
        pickles.torch_state_dict(STATE), {"archive/constants.pkl": pickles.payload("os", "system", "id")}
    )
    assert "archive/constants.pkl: pickle imports os.system" in refused(blob)


def test_extension_codes_are_refused():
    assert "copyreg extension" in refused(b"\x80\x02\x82\x01)R.")


@pytest.mark.parametrize(
    ("blob", "rule"),
    [
        (b"\x80\x02}q\x00(X", "not a readable pickle"),
        (b"PK\x03\x04garbage", "not a readable zip"),
        (b"", "not a readable pickle"),
        (pickles.payload("collections", "OrderedDict") + b"PK\x03\x04tail", "bytes follow the pickle's STOP"),
        (pickles.zip_checkpoint(b"\x80\x02}.")[:40], "not a readable zip"),
        (b"GGUF\x03\x00\x00\x00", "GGUF files are not a supported format"),
    ],
)
def test_malformed_or_foreign_files_fail_closed(blob, rule):
    assert rule in refused(blob)


def test_a_zip_without_data_pkl_is_refused():
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("archive/version", b"3\n")
    assert "holds no data.pkl" in refused(out.getvalue())


def test_parameters_of_a_bin_checkpoint_are_counted_from_the_opcodes():
    tensors = {
        "model.embed_tokens.weight": (32, 8),
        "model.layers.0.mlp.up_proj.weight": (16, 8),
        "lm_head.weight": (32, 8),  # tied to the embeddings: the same storage
        "model.position_ids": (1, 64),  # a LongStorage buffer, not a parameter
    }
    storages = {"lm_head.weight": ("0", "HalfStorage"), "model.position_ids": ("3", "LongStorage")}
    data = pickles.torch_state_dict(tensors, storages=storages)
    for blob in (pickles.zip_checkpoint(data), pickles.legacy_checkpoint(data)):
        result = scan(blob)
        assert len(result.tensors) == 4
        assert result.parameter_count() == 32 * 8 + 16 * 8
