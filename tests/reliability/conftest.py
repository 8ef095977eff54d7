"""The real model server of tests/test_real_models.py, for the attacks that go through it."""

from test_real_models import gguf, llama_server  # noqa: F401  (fixtures)
