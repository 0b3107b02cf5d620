"""Root conftest: the shared test cast and fixtures (tests/cast.py) for every app's tests."""

pytest_plugins = ["tests.cast"]
