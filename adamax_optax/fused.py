"""The fused step: one Adamax update over all the leaves of a dtype.

``scale_by_adamax(fused=True)`` (and ``adamax(fused=True)``,
``mxnet_adamax(use_fused_step=True)``) gathers the leaves that share a gradient, ``m``
and ``u`` dtype into one flat vector each, runs the elementwise rule once over them in a
Pallas kernel that reads g, m and u and writes the update, m and u in one pass, and
splits the results back into leaves. The rule is the very function the unfused path
runs, so the trajectory is the same (bit for bit in the Pallas interpreter; within the
backend's multiply-add contraction on GPU and TPU).

On the CPU the per-leaf loops XLA emits are measured to be the fastest form: there is
no Pallas backend, and gathering 12M parameters into fresh vectors costs more than the
whole unfused step (``benchmarks/README.md``), so ``fused=True`` computes leaf by leaf.
Sparse, complex and integer leaves always take the per-leaf path.
"""

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from adamax_optax._leaves import is_sparse, is_trained
from adamax_optax.validation import is_python_number

_LANES = 128
# Rows per kernel block: a lane-dense (rows, 128) tile per program. TPU wants large
# blocks in VMEM (6 arrays of 256 KiB for float32); Triton, small ones in registers.
_BLOCK_ROWS = {"tpu": 512, "gpu": 32, "interpret": 32}


def check_fused(fused) -> tuple[bool, bool]:
  """``(use the kernel, in the interpreter)`` for a ``fused`` argument."""
  if fused == "interpret":
    return True, True
  if not isinstance(fused, (bool, np.bool_)):
    raise TypeError(f"fused must be True, False or 'interpret', got {fused!r}.")
  return bool(fused), False


def kernel_platform(interpret: bool) -> str | None:
  """Where the Pallas kernel runs: ``"interpret"``, ``"gpu"``, ``"tpu"`` or ``None``."""
  if interpret:
    return "interpret"
  backend = jax.default_backend()
  return backend if backend in ("gpu", "tpu") else None


def _fusible(g, m, u) -> bool:
  if is_sparse(g) or not (is_trained(g) and is_trained(m)):
    return False
  return not any(jnp.iscomplexobj(x) for x in (g, m, u))


def _elementwise_kernel(rule: Callable, scalars: Sequence, platform: str, g, m, u):
  """``rule(g, m, u, *scalars)`` over flat vectors in one Pallas kernel.

  Python-number scalars are compiled into the kernel as constants (so they round
  exactly as in the unfused path); array scalars (schedules, traced hyperparameters,
  the bias correction) are passed in as one-element inputs.
  """
  from jax.experimental import pallas as pl

  size = g.shape[0]
  block = _BLOCK_ROWS[platform] * _LANES
  padded = -(-size // block) * block
  tiles = [jnp.pad(x, (0, padded - size)).reshape(padded // _LANES, _LANES) for x in (g, m, u)]
  dynamic = [i for i, s in enumerate(scalars) if not is_python_number(s)]
  dynamic_values = [jnp.reshape(jnp.asarray(scalars[i]), (1,)) for i in dynamic]

  def kernel(*refs):
    scalar_refs, (g_ref, m_ref, u_ref), out_refs = (
      refs[: len(dynamic)],
      refs[len(dynamic) : len(dynamic) + 3],
      refs[len(dynamic) + 3 :],
    )
    values = list(scalars)
    for i, ref in zip(dynamic, scalar_refs, strict=True):
      values[i] = ref[0]
    results = rule(g_ref[...], m_ref[...], u_ref[...], *values)
    for ref, value in zip(out_refs, results, strict=True):
      ref[...] = value.astype(ref.dtype)

  if platform == "tpu":
    from jax.experimental.pallas import tpu as pltpu

    scalar_spec = pl.BlockSpec(memory_space=pltpu.SMEM)
  else:
    scalar_spec = pl.BlockSpec((1,), lambda i: (0,))
  tile_spec = pl.BlockSpec((_BLOCK_ROWS[platform], _LANES), lambda i: (i, 0))
  out_dtypes = jax.eval_shape(lambda g, m, u: rule(g, m, u, *scalars), *(x[:1] for x in (g, m, u)))
  outputs = pl.pallas_call(
    kernel,
    grid=(padded // block,),
    in_specs=[scalar_spec] * len(dynamic) + [tile_spec] * 3,
    out_specs=[tile_spec] * 3,
    out_shape=[jax.ShapeDtypeStruct(tiles[0].shape, out.dtype) for out in out_dtypes],
    interpret=platform == "interpret",
  )(*dynamic_values, *tiles)
  return [out.reshape(-1)[:size] for out in outputs]


def fused_leaf_updates(
  rule: Callable,
  grads: Sequence,
  mus: Sequence,
  nus: Sequence,
  scalars: Sequence,
  *,
  interpret: bool = False,
) -> list:
  """``rule`` applied to every fusible leaf, one kernel per dtype group.

  Returns, per leaf, ``rule``'s ``(update, m, u)`` in the computation's dtype, or
  ``None`` for a leaf the caller must update itself (sparse, complex or untrained
  leaves, and every leaf when no kernel runs on this platform).
  """
  results: list = [None] * len(grads)
  platform = kernel_platform(interpret)
  if platform is None:
    return results
  groups: dict = {}
  for index, (g, m, u) in enumerate(zip(grads, mus, nus, strict=True)):
    if _fusible(g, m, u):
      groups.setdefault((g.dtype, m.dtype, u.dtype), []).append(index)
  for members in groups.values():
    flats = [
      jnp.concatenate([jnp.ravel(leaves[i]) for i in members]) for leaves in (grads, mus, nus)
    ]
    outputs = _elementwise_kernel(rule, scalars, platform, *flats)
    offsets = np.cumsum([0] + [grads[i].size for i in members])
    for index, start, stop in zip(members, offsets[:-1], offsets[1:], strict=True):
      shape = grads[index].shape
      results[index] = tuple(out[start:stop].reshape(shape) for out in outputs)
  return results


__all__ = ["check_fused", "fused_leaf_updates", "kernel_platform"]
