"""``python -m pytest -p tests.keras_first``: every worker imports keras before anything of ours, as a notebook does."""

import keras  # noqa: F401
