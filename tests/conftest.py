"""Shared fixtures of the unit tests."""

import kitlib  # noqa: F401, I001  (before keras: keeps TensorFlow's start-up log lines off the test workers' output)
import keras
import pytest

from kitlib import runtime


@pytest.fixture
def float32_runtime():
    """Seeds everything and runs the test under the float32 policy (restored afterwards).

    Use it for a whole file with ``pytestmark = pytest.mark.usefixtures("float32_runtime")``.
    """
    runtime.setup(seed=0, precision="float32")
    yield
    keras.mixed_precision.set_global_policy("float32")
