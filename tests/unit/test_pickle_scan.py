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


def _framed(body: bytes) -> bytes:
    return b"\x80\x04\x95" + len(body).to_bytes(8, "little") + body


def test_a_stop_inside_a_longer_frame_is_refused():
    # the unpickler resumes at the frame's end, not after STOP: the two views must not differ
    blob = _framed(b"K\x01." + b"N." * 5000) + pickles.payload("os", "system", "id")
    assert "is not the end of its frame" in refused(blob)


def test_an_opcode_straddling_a_frame_end_is_refused():
    blob = _framed(b"X\x05\x00\x00\x00ab") + b"cde."
    assert "straddles the end of its frame" in refused(blob)


def test_a_frame_opening_inside_a_frame_is_refused():
    inner = b"\x95" + (2).to_bytes(8, "little") + b"N."
    assert "opens inside another frame" in refused(_framed(inner + b"N."))


def test_framed_pickles_from_pickle_dumps_pass():
    import pickle

    blob = pickle.dumps({"a": list(range(20_000)), "b": "x" * 70_000}, protocol=5)
    assert scan(blob, "state.pkl").streams == 1


def test_a_legacy_tar_checkpoint_is_refused():
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("storages")
        raw = pickles.payload("os", "system", "id")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    assert "tar archive" in refused(out.getvalue())


def test_a_zip_member_named_in_upper_case_is_scanned():
    blob = pickles.zip_checkpoint(
        pickles.torch_state_dict(STATE), {"archive/X.PKL": pickles.payload("os", "system")}
    )
    assert "archive/X.PKL: pickle imports os.system" in refused(blob)


def test_sniffed_text_whose_first_line_reads_as_an_unimportable_global_is_not_a_pickle():
    from xerotier.validation.file_scan import scan_file

    text = b"cuda notes\nsee the kernels, then: os\nsystem\n"  # the unpickler fails at the import
    assert scan_file(io.BytesIO(text), len(text), "NOTES", checkpoint=False).streams == 0
    hostile = b"cos\nsystem\n(S'id'\ntR."
    with pytest.raises(ValidationFailed, match=r"imports os\.system"):
        scan_file(io.BytesIO(hostile), len(hostile), "NOTES", checkpoint=False)
