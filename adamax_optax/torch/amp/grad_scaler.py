r"""``torch.amp.GradScaler`` ("cpu" and "cuda" share the rule) as an optax wrapper.

=======================================  ===============================================
PyTorch                                  adamax_optax
=======================================  ===============================================
``scaler = GradScaler("cpu", ...)``      ``opt = GradScaler(optimizer, "cpu", ...)``
``scaler.scale(loss).backward()``        ``jax.grad(lambda p: scale(loss(p), state))``
``scaler.unscale_(optimizer)``           done by ``opt.update`` before ``optimizer``
``clip_grad_norm_`` after ``unscale_``   ``GradScaler(optax.chain(clip, optimizer))``
``scaler.step(optimizer)``               ``opt.update`` (skipped on NaN/inf)
``scaler.update()``                      ``opt.update`` (the new scale in the state)
``scaler.get_scale()``                   ``state.scale``
``scaler._growth_tracker``               ``state.growth_tracker``
=======================================  ===============================================
"""

import jax
import jax.numpy as jnp
import optax

from adamax_optax.loss_scaling import DynamicLossScaleState, dynamic_loss_scaling, scale_loss

_DEVICES = ("cpu", "cuda")


def GradScaler(
  optimizer: optax.GradientTransformation,
  device: str = "cuda",
  init_scale: float = 2.0**16,
  growth_factor: float = 2.0,
  backoff_factor: float = 0.5,
  growth_interval: int = 2000,
  enabled: bool = True,
) -> optax.GradientTransformationExtraArgs:
  r"""PyTorch's ``torch.amp.GradScaler`` around ``optimizer``, bit for bit (2.x).

  ``opt.update`` does what ``scaler.unscale_(optimizer)``, ``scaler.step(optimizer)`` and
  ``scaler.update()`` do, in that order, on the gradients of the scaled loss (see
  :func:`scale`). With :math:`s` the scale and :math:`t` the growth tracker:

  .. math::

    g &\leftarrow g \cdot \mathrm{f32}(1/s)
      \qquad \text{(float32; PyTorch: } \texttt{scale.double().reciprocal().float()}) \\
    \text{any } g \text{ NaN or inf:}\ & \text{step skipped, } t \leftarrow 0,\
      s \leftarrow \mathrm{f32}(s \cdot \text{backoff\_factor}) \\
    \text{else:}\ & \text{step taken, } t \leftarrow t + 1;\
      t = \text{growth\_interval} \Rightarrow t \leftarrow 0,\
      s \leftarrow \mathrm{f32}(s \cdot \text{growth\_factor}) \text{ unless inf}

  (``_amp_foreach_non_finite_check_and_unscale_`` and ``_amp_update_scale_``). A
  skipped step leaves ``optimizer``'s state as it was, its step count included, as
  PyTorch skips ``optimizer.step()``. To clip after ``unscale_``, put the clip inside:
  ``GradScaler(optax.chain(clip_grad_norm_(1.0), torch_adamax(...)))``; it then sees
  the unscaled gradients, as in PyTorch. The state is
  :class:`~adamax_optax.loss_scaling.DynamicLossScaleState`: ``scale`` (float32),
  ``growth_tracker`` (int32) and ``inner``.

  Args:
    optimizer: the transformation to step (with any clipping chained before it).
    device: ``"cuda"`` (default) or ``"cpu"``: the two share the rule; no effect here
      (PyTorch's ``"cuda"`` scaler disables itself where CUDA is missing; this does not).
    init_scale: default ``2.0**16``, > 0, stored as float32.
    growth_factor: default 2.0, > 1.
    backoff_factor: default 0.5, in (0, 1).
    growth_interval: default 2000, an int >= 1.
    enabled: default True; False steps ``optimizer`` on the gradients as they are.

  Returns:
    An :class:`optax.GradientTransformationExtraArgs`.

  Raises:
    ValueError: for float16 gradients at ``update``, as PyTorch's ``unscale_``
      ("Attempting to unscale FP16 gradients."): keep float32 parameters (and so
      gradients) under autocast; bfloat16 is accepted.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from adamax_optax.torch.amp import GradScaler, scale
    >>> from adamax_optax.torch.nn.utils import clip_grad_norm_
    >>> from adamax_optax.torch.optim import Adamax
    >>> opt = GradScaler(optax.chain(clip_grad_norm_(1.0), Adamax(lr=0.01)), "cpu")
    >>> w = jnp.ones(2)
    >>> state = opt.init(w)
    >>> grads = jax.grad(lambda w: scale(jnp.sum(w**2), state))(w)
    >>> updates, state = opt.update(grads, state, w)
    >>> print(updates, float(state.scale), int(state.growth_tracker))
    [-0.01 -0.01] 65536.0 1

  References:
    PyTorch ``torch.amp.GradScaler``
    (https://pytorch.org/docs/stable/amp.html#gradient-scaling).
  """
  if device not in _DEVICES:
    raise ValueError(f"device must be 'cpu' or 'cuda' (they share the rule), got {device!r}.")
  scaler = dynamic_loss_scaling(
    optimizer, init_scale, growth_factor, backoff_factor, growth_interval, enabled=enabled
  )

  def update_fn(updates, state, params=None, **extra_args):
    if enabled and any(g.dtype == jnp.float16 for g in jax.tree.leaves(updates)):
      raise ValueError(
        "Attempting to unscale FP16 gradients. (PyTorch refuses them too: keep the "
        "parameters float32 under autocast; bfloat16 gradients are accepted.)"
      )
    return scaler.update(updates, state, params, **extra_args)

  return optax.GradientTransformationExtraArgs(scaler.init, update_fn)


def scale(outputs, state: DynamicLossScaleState):
  """``scaler.scale(outputs)``: the loss (or a pytree of arrays) times ``state.scale``.

  In float32 (the scale's dtype) and rounded to each leaf's dtype, as PyTorch multiplies
  by its float32 scale tensor. Unchanged when the scaler is disabled (scale 1).

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax.torch.amp import GradScaler, scale
    >>> state = GradScaler(optax.sgd(0.1), "cpu", init_scale=8.0).init(jnp.ones(1))
    >>> print(scale(jnp.float32(0.25), state))
    2.0
  """
  return scale_loss(outputs, state)


__all__ = ["GradScaler", "scale"]
