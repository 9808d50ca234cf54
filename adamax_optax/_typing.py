"""Annotation aliases that ``typing.get_type_hints`` can resolve.

optax's ``Params``, ``Updates`` and ``OptState`` are ``chex.ArrayTree``, a recursive
``Union`` spelled with the string forward reference ``'ArrayTree'``; resolving it needs
chex's own namespace, so ``get_type_hints`` raises ``NameError`` on any function of
another module annotated with them. These aliases mean the same (a pytree of arrays)
and always resolve.
"""

from typing import Any

Params = Any
Updates = Any
OptState = Any

__all__ = ["OptState", "Params", "Updates"]
