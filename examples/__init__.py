"""Examples, runnable as ``python examples/NAME.py`` or ``python -m examples.NAME``.

``_digits`` is their shared helper (data, model, training loop), not an example.
"""
