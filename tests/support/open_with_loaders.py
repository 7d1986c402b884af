"""Open files with the real loaders, as a consumer of the registry would (run as a subprocess).

``python open_with_loaders.py FILE…`` tries, on every file, ``torch.load(weights_only=False)``,
``pickle.load`` until the file is exhausted, ``numpy.load(allow_pickle=True)`` (reading every
member of an ``.npz``) and ``joblib.load``; a loader's error is expected and ignored. Whatever a
payload does (``touch …/ran-<case>``) is what the caller looks for. Prints one line per loader that
is missing, so the caller can fail naming it.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import sys
import warnings


def _pickles(path: str) -> None:
    with open(path, "rb") as stream:
        for _ in range(16):
            pickle.load(stream)


def _numpy(path: str) -> None:
    import numpy as np

    loaded = np.load(path, allow_pickle=True)
    if hasattr(loaded, "files"):
        for key in loaded.files:
            loaded[key]


def _torch(path: str) -> None:
    import torch

    torch.load(path, weights_only=False)


def _joblib(path: str) -> None:
    import joblib

    joblib.load(path)


def main(paths: list[str]) -> None:
    warnings.simplefilter("ignore")
    loaders = {"torch": _torch, "pickle": _pickles, "numpy": _numpy, "joblib": _joblib}
    for name in ("torch", "numpy", "joblib"):
        try:
            __import__(name)
        except ImportError:
            print(f"missing loader: {name}")
    for path in paths:
        for loader in loaders.values():
            quiet = contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO())
            with quiet[0], quiet[1], contextlib.suppress(BaseException):  # a broken file: the loader's
                loader(path)


if __name__ == "__main__":
    main(sys.argv[1:])
