"""PyTorch's Adamax, exactly: ``torch_adamax`` (``torch.optim.Adamax``, 2.x).

Every ``torch.optim.Adamax`` knob is here under PyTorch's keyword names, with its
validation messages; the arithmetic comes from the package's building blocks (the
chain itself, shared with MindSpore's copy of this interface, is
:func:`adamax_optax._torch_style.torch_style_chain`).
"""

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import jax
import numpy as np
import optax

from adamax_optax import arithmetic as arith
from adamax_optax._preset import (
  PresetSettings,
  assemble,
  framework_groups,
  scheduler_and_cadence,
  takes_framework_params,
  with_common_keyword_docs,
  with_param_order,
)
from adamax_optax._torch_style import check_maximize, torch_style_chain
from adamax_optax.param_groups import Ungrouped
from adamax_optax.schedules import is_exact
from adamax_optax.torch.backends import cpu
from adamax_optax.torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from adamax_optax.validation import (
  check_bool,
  check_framework_rule,
  check_pair,
  check_scheduler,
  is_concrete_array,
  renamed_keywords,
)

# Elements per vector iteration of PyTorch's CPU add kernel on 16-bit tensors; the rest
# of a tensor goes through the scalar tail. The loop takes two vectors per iteration, and
# add registers no AVX-512 kernel (ATen's REGISTER_DISPATCH leaves that slot empty, so an
# AVX-512 machine runs the AVX2 kernel): two 16-lane vectors, 32 elements, on both.
# Recorded with ATEN_CPU_CAPABILITY=avx512 and =avx2 (tensors of 1500, 50, 210 and 7).
_VECTOR_CHUNK = {"AVX512": 32, "AVX2": 32}


def _resolved_capability(cpu_capability) -> str:
  """The capability argument, or this machine's as PyTorch would pick it."""
  if cpu_capability is not None:
    return cpu_capability
  detected = cpu.get_cpu_capability()
  if detected == "DEFAULT":
    warnings.warn(
      "torch_adamax: this CPU has no AVX2, so PyTorch here runs its generic kernels, whose "
      "16-bit arithmetic (a lerp rounded twice, an unfused weight decay) is not reproduced; "
      "float16/bfloat16 parameters follow the AVX2/AVX-512 kernels. Pass "
      "cpu_capability='AVX2' to silence this.",
      stacklevel=4,
    )
  # Machines PyTorch runs other kernels on (ARM, ...) were not recorded: x86's rule.
  return detected if detected in _VECTOR_CHUNK else "AVX2"


def _check_torch_only_keywords(foreach, capturable, differentiable, cpu_capability) -> None:
  if foreach not in (None, True, False):
    raise TypeError(f"foreach must be None, True or False, got {foreach!r}.")
  check_bool("differentiable", differentiable)
  if capturable is not False:
    raise ValueError(
      f"capturable={capturable!r}: PyTorch's capturable path is for CUDA graphs, and "
      "PyTorch itself refuses it for CPU tensors. Leave capturable=False: under jax.jit "
      "the whole step is already one compiled program."
    )
  if cpu_capability is not None and cpu_capability not in _VECTOR_CHUNK:
    raise ValueError(
      f"cpu_capability must be one of {sorted(_VECTOR_CHUNK)} or None (this machine's; "
      f"torch.backends.cpu.get_cpu_capability() where PyTorch ran), got {cpu_capability!r}. "
      "PyTorch's generic DEFAULT kernels and its ARM kernels are not reproduced."
    )


def _is_tensor_lr(lr) -> bool:
  """A concrete array learning rate, PyTorch's tensor lr (a traced one, from
  optax.inject_hyperparams, stands for a Python float changed between steps)."""
  return is_concrete_array(lr)


def _scalar_lr(lr):
  """PyTorch accepts a one-element tensor as the learning rate; so do we, as a 0-d array."""
  if _is_tensor_lr(lr):
    if np.size(lr) != 1:
      raise ValueError("Tensor lr must be 1-element")
    return lr.reshape(())
  return lr


def _check_torch(settings: Mapping) -> None:
  """``torch.optim.Adamax.__init__``'s checks and messages (zero is accepted)."""
  if "lr" in settings:
    lr = _scalar_lr(settings["lr"])
    check_framework_rule(
      "lr", lr, lambda v: not v >= 0.0, f"Invalid learning rate: {lr}", allow_schedule=True
    )
  if "eps" in settings:
    eps = settings["eps"]
    check_framework_rule("eps", eps, lambda v: not v >= 0.0, f"Invalid epsilon value: {eps}")
  if "betas" in settings:
    for index, beta in enumerate(check_pair("betas", settings["betas"])):
      if is_exact(beta):  # a scheduler's cycled betas[0], checked where it was made
        continue
      check_framework_rule(
        f"betas[{index}]",
        beta,
        lambda v: not 0.0 <= v < 1.0,
        f"Invalid beta parameter at index {index}: {beta}",
      )
  if "weight_decay" in settings:
    wd = settings["weight_decay"]
    check_framework_rule(
      "weight_decay", wd, lambda v: not v >= 0.0, f"Invalid weight_decay value: {wd}"
    )
  if "maximize" in settings:
    check_maximize(settings["maximize"])


@takes_framework_params
@renamed_keywords(learning_rate="lr", beta1="betas", beta2="betas", epsilon="eps")
@with_common_keyword_docs
def torch_adamax(
  lr: optax.ScalarOrSchedule = 2e-3,
  betas: tuple[float, float] = (0.9, 0.999),
  eps: float = 1e-8,
  weight_decay: float = 0.0,
  *,
  maximize: bool = False,
  params=None,
  param_groups: Sequence[Mapping] | None = None,
  ungrouped: Ungrouped = "train",
  lr_scheduler: LRScheduler | ReduceLROnPlateau | Sequence[LRScheduler] | None = None,
  lr_scheduler_every: int | Sequence[int] | None = None,
  foreach: bool | None = None,
  capturable: bool = False,
  differentiable: bool = False,
  cpu_capability: Literal["AVX512", "AVX2"] | None = None,
  exact_apply: bool = False,
  updates_in_param_dtype: bool = False,
  mu_dtype: jax.typing.DTypeLike | None = None,
  nu_dtype: jax.typing.DTypeLike | None = None,
  skip_nonfinite: bool = False,
) -> optax.GradientTransformation:
  r"""PyTorch's ``torch.optim.Adamax`` (2.x, CPU), reproduced bit for bit.

  With :math:`t` the 1-based step and :math:`\mathrm{fma}` a fused multiply-add:

  .. math::

    g &\leftarrow \mathrm{fma}(w, \lambda, \pm g) \\
    m &\leftarrow \mathrm{fma}(1 - \beta_1,\; g - m,\; m) \qquad \text{(lerp)} \\
    u &\leftarrow \max(\beta_2 u,\; |g| + \epsilon) \\
    w &\leftarrow w - \frac{\eta}{1 - \beta_1^t}\, m \,/\, u

  with the step size :math:`\eta / (1 - \beta_1^t)` computed in double and rounded to
  float32 once, as PyTorch computes it in Python. The gradient is negated first when
  ``maximize``. Complex parameters are updated as pairs of reals (PyTorch's
  ``view_as_real``): each part has its own infinity norm.

  float16 and bfloat16 parameters compute as PyTorch's CPU kernels do: every operation
  in float32 with float32 scalars (but ``eps``, which ``add_(eps)`` rounds to 16 bits
  first), its result rounded to 16 bits (m and u stay 16-bit, as in PyTorch). The
  update of such a leaf is returned in float32, so that
  :func:`optax.apply_updates` (and Flax's ``apply_gradients``) rounds ``w + update``
  once, as ``addcdiv_`` does: this departs from optax's convention that updates have
  the params' dtype, and wrappers that pair the updates with the gradients under a
  ``lax.cond`` (``optax.apply_if_finite``) refuse it: ``updates_in_param_dtype`` and
  ``exact_apply`` keep the 16-bit dtype. Do not wrap this preset in
  :func:`multi_precision`: PyTorch keeps no float32 master weights.

  Args:
    lr: :math:`\eta`, default 2e-3, >= 0: a number, a one-element array, or an optax
      schedule (called with the step count, 0 first). An array is PyTorch's tensor lr:
      on the single-tensor path (``foreach`` None or False) the step size is then
      ``f32(lr) / f32(1 - beta1**t)``, a float32 division; with ``foreach=True``
      PyTorch reads it with ``.item()`` and divides in double, as for a float.
    betas: :math:`(\beta_1, \beta_2)`, default (0.9, 0.999), each in [0, 1).
    eps: default 1e-8, >= 0.
    weight_decay: :math:`\lambda`, coupled L2, default 0, >= 0.
    maximize: ascend the objective instead of descending it.
    params: the parameters, as ``torch.optim.Adamax(params, ...)`` takes them, here or
      as the first positional argument: a pytree (a dict keeps its insertion order), a
      list of ``(name, array)`` pairs (then ``opt.init(dict(pairs))``), or a list of
      group dicts whose ``"params"`` is a subtree (the full tree's paths), a list of
      such pairs or a list of names, with any of the group keys below. They give the
      groups (instead of ``param_groups``) and ``opt.param_order``: the names in
      PyTorch's numbering (the groups' parameters one after the other), for
      :mod:`adamax_optax.torch.checkpoint`'s ``order=`` and for
      :func:`~adamax_optax.torch.nn.utils.clip_grad_norm_`'s ``param_order=`` where
      the clip takes the optimizer's parameters. The values are not kept: initialize
      with ``opt.init(params)`` as usual. A first positional argument that is a number,
      an array or a schedule is ``lr`` (the call ``torch_adamax(1e-3)``).
    param_groups: optional list of dicts, each with ``params`` (a list of parameter
      names, the "/"-joined pytree paths, or a callable ``(name, leaf) -> bool``) and
      any of ``lr``, ``betas``, ``eps``, ``weight_decay``, ``maximize``; missing keys
      take the values above.
    ungrouped: what the parameters in no group do when ``param_groups`` is given:
      ``"train"`` (default) with the values above, or ``"frozen"``: no update and no
      state, as in PyTorch, which updates only the parameters handed to it.
    lr_scheduler: optional scheduler from :mod:`adamax_optax.torch.optim.lr_scheduler`
      (e.g. ``StepLR(step_size=30, gamma=0.1)``), acting on every group's ``lr`` as
      PyTorch's does, in Python doubles: the step size is formed from the very double
      PyTorch's ``group["lr"]`` holds.
      ``ReduceLROnPlateau`` takes the metric from every update,
      ``opt.update(grads, state, params, value=metric)``. A list of schedulers is
      several built on the same optimizer in that order and stepped in that order, each
      reading the ``lr`` the others left, as a script with a warmup and a decay on one
      optimizer runs them (e.g. ``[LinearLR(start_factor=0.1, total_iters=60),
      StepLR(step_size=2, gamma=0.5)]``); ``get_last_lr(opt, state)`` of
      :mod:`adamax_optax.torch.optim.lr_scheduler` reads each group's current rate.
    lr_scheduler_every: updates per ``scheduler.step()``: ``None`` (default) or 1 steps it
      after every update; the number of batches per epoch steps it once per epoch. With
      a list of schedulers, one int for all or a list with one per scheduler (e.g.
      ``[1, 25]``: the warmup after every update, the decay after every 25th). Python
      ints, static (not a hyperparameter of ``optax.inject_hyperparams``).
    foreach: PyTorch's implementation switch. ``None`` (default) and ``False`` are the
      single-tensor path (PyTorch's default for CPU tensors), ``True`` the
      ``_foreach_*`` path. They differ on 16-bit parameters: the foreach path rounds
      ``beta2`` and ``eps`` to 16 bits before using them.
    capturable: only ``False``: PyTorch's CUDA-graph path (refused for CPU tensors).
    differentiable: accepted for compatibility; it changes no number (PyTorch then
      computes the maximum through ``torch.cat`` and ``amax``).
    cpu_capability: the kernels PyTorch ran (``torch.backends.cpu.get_cpu_capability()``
      on the machine of the PyTorch run): ``"AVX512"`` or ``"AVX2"``, both recorded.
      ``None`` (default) takes this machine's, decided as PyTorch decides it (see
      :func:`adamax_optax.torch.backends.cpu.get_cpu_capability`: the
      ``ATEN_CPU_CAPABILITY`` environment variable, else the CPU flags in
      ``/proc/cpuinfo``); where that is unknown (not Linux on x86-64) the x86 rule is
      used. It decides where the vectorized weight decay of 16-bit parameters ends and
      the scalar tail begins (see :func:`add_decayed_weights`): 32-element chunks on
      both, as PyTorch 2.13 runs its AVX2 add kernel on AVX-512 machines too. float32
      results do not depend on it.
    exact_apply: False (default): updates to add with :func:`optax.apply_updates`
      (float32 for 16-bit parameters, see above). True: each trained parameter's
      update is a :class:`~adamax_optax.NewValue` holding the new weight in the
      parameter's dtype (``w + step`` rounded once, as PyTorch), to apply with
      :func:`adamax_optax.apply_updates`, exact at every step, the values in the
      params' dtypes. Wrappers that zero the updates (``skip_nonfinite``,
      ``optax.MultiSteps`` between its updates) keep the params; ``optax.apply_updates``
      and wrappers that substitute the gradients for the updates refuse them.
    updates_in_param_dtype: True: the update of a 16-bit parameter is the difference
      ``new - w`` from PyTorch's new weight, rounded to 16 bits: plain arrays in the
      params' dtypes, optax's convention, for :func:`optax.apply_updates` and every
      wrapper (``optax.apply_if_finite``, ``optax.transforms.conditionally_transform``).
      The weight is then PyTorch's exactly where it moves by at most a factor of two in a
      step, else within an ulp; use ``exact_apply`` for every bit. Default False; not
      with ``exact_apply``.
    {COMMON_KEYWORDS}

  Raises:
    ValueError: with PyTorch's message (``Invalid learning rate: -0.1``, ``Invalid
      epsilon value: ...``, ``Invalid beta parameter at index 0: ...``, ``Invalid
      weight_decay value: ...``, ``Tensor lr must be 1-element``), and for NaN or inf.
    TypeError: for a non-numeric hyperparameter, naming it.

  Returns:
    An :class:`optax.GradientTransformation`.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from adamax_optax import torch_adamax
    >>> opt = torch_adamax(lr=0.01, param_groups=[{"params": ["bias"], "weight_decay": 0.1}])
    >>> params = {"weight": jnp.ones(2), "bias": jnp.ones(2)}
    >>> updates, state = opt.update(params, opt.init(params), params)
    >>> print(updates["weight"], updates["bias"])
    [-0.01 -0.01] [-0.01 -0.01]

    PyTorch's own call, the parameters first (``model.named_parameters()`` order):

    >>> from adamax_optax.torch.optim import Adamax
    >>> opt = Adamax([("weight", jnp.ones(2)), ("bias", jnp.ones(2))], lr=0.01)
    >>> opt.param_order
    ('weight', 'bias')

    float16 weights under ``optax.MultiSteps``, their updates the new weights:

    >>> import adamax_optax
    >>> w = jnp.ones(2, jnp.float16)
    >>> opt = optax.MultiSteps(torch_adamax(lr=0.01, exact_apply=True), every_k_schedule=2)
    >>> state = opt.init(w)
    >>> for _ in range(2):
    ...   updates, state = opt.update(w, state, w)
    ...   w = adamax_optax.apply_updates(w, updates)
    >>> print(w, w.dtype)
    [0.99 0.99] float16

  References:
    Kingma & Ba, 2015, section 7.1; PyTorch ``torch.optim.Adamax``
    (https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html).
  """
  defaults = {
    "lr": lr,
    "betas": betas,
    "eps": eps,
    "weight_decay": weight_decay,
    "maximize": maximize,
  }
  _check_torch(defaults)
  param_groups, order = framework_groups(params, param_groups)
  _check_torch_only_keywords(foreach, capturable, differentiable, cpu_capability)
  vector_chunk = _VECTOR_CHUNK[_resolved_capability(cpu_capability)]
  recipe = arith.TORCH_FOREACH if foreach else arith.TORCH
  group_lrs = [g.get("lr") for g in param_groups or () if isinstance(g, Mapping)]
  if lr_scheduler is not None and any(_is_tensor_lr(v) for v in (lr, *group_lrs)):
    raise ValueError(
      "torch_adamax: a tensor (array) lr with lr_scheduler is not reproduced: PyTorch's "
      "schedulers then compute the rate in float32 tensor arithmetic, and these schedulers "
      "replay PyTorch's Python-float arithmetic. Pass lr as a Python float (PyTorch's "
      "default), or a tensor lr without a scheduler."
    )
  lr_scheduler, lr_scheduler_every = scheduler_and_cadence(
    lr_scheduler,
    lr_scheduler_every,
    lambda scheduler: check_scheduler(
      scheduler,
      (LRScheduler, ReduceLROnPlateau),
      "adamax_optax.torch.optim.lr_scheduler",
      "StepLR(step_size=30, gamma=0.1)",
    ),
  )

  def build(settings):
    settings = {**settings, "lr": _scalar_lr(settings["lr"])}
    # A tensor lr on the single-tensor path divides in float32: lr / (1 - beta1**t).
    tensor_lr = _is_tensor_lr(settings["lr"]) and not foreach
    return torch_style_chain(
      settings,
      dataclasses.replace(recipe, bias_correction="float64_power_float32_divide")
      if tensor_lr
      else recipe,
      fused_decay=True,
      vector_chunk=vector_chunk,
      mu_dtype=mu_dtype,
      nu_dtype=nu_dtype,
    )

  settings = PresetSettings(
    framework="PyTorch",
    defaults=defaults,
    param_groups=param_groups,
    check_group=_check_torch,
    ungrouped=ungrouped,
    lr_scheduler=lr_scheduler,
    lr_scheduler_every=lr_scheduler_every,
    skip_nonfinite=skip_nonfinite,
    exact_apply=exact_apply,
    updates_in_param_dtype=updates_in_param_dtype,
  )
  return with_param_order(assemble(build, settings), order)


__all__ = ["torch_adamax"]
