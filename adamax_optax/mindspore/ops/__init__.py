"""``mindspore.ops``'s mirror: ``clip_by_global_norm`` and ``clip_by_value``."""

from adamax_optax.mindspore.ops.clip_func import clip_by_global_norm, clip_by_value

__all__ = ["clip_by_global_norm", "clip_by_value"]
