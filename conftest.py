"""Root pytest configuration.

nbval compares notebook outputs only where a cell asks for it (`# NBVAL_CHECK_OUTPUT`); TensorFlow writes
run-dependent logs to stderr, so stderr is never compared.
"""

import os

os.environ.setdefault("KITLIB_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
