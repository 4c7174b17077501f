"""The service loads artifacts only: importing its modules must not pull in torch or sklearn."""

from __future__ import annotations

import subprocess
import sys

SERVING_IMPORTS = (
    "import consumer.reload, recommender.artifacts; import sys; "
    "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules, "
    "sorted(m for m in ('torch', 'sklearn') if m in sys.modules)"
)


def test_serving_imports_neither_torch_nor_sklearn():
    # A fresh interpreter: this test process has long imported both.
    done = subprocess.run(
        [sys.executable, "-c", SERVING_IMPORTS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
