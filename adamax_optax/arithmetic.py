"""How each framework orders and rounds the Adamax arithmetic, in one place.

Frameworks agree on the Adamax formula (Kingma & Ba, 2015, section 7.1) and disagree
on the floating-point details, which is what separates their training curves after a
few thousand steps. Those details are four independent choices, recorded here as an
:class:`Arithmetic` value per framework and consumed by
:func:`adamax_optax.scale_by_adamax`. Epsilon's placement, the fifth difference, is an
argument of its own (``eps_placement``) because it changes the algorithm, not only the
rounding.

==================  ==========  ======= ==================  ===================  =============
recipe              moment      1 - b1  bias correction     step                 half
==================  ==========  ======= ==================  ===================  =============
``OPTAX``           optax       float64 float32_power       optax                native
``MXNET``           ema         float64 float64_power       scale_direction      native
``MXNET1``          ema         float64 float64_power       scale_moment         native
``MINDSPORE``       ema         float32 float32_power       scale_moment         float32_step
``MINDSPORE_NN``    ema         float32 float32_product     scale_direction      float32
``TORCH``           fused_lerp  float64 float64_power       scale_moment         float32_ops
``TORCH_FOREACH``   fused_lerp  float64 float64_power       scale_moment         float32_ops
                                                                                 _16bit_scalars
``KERAS``           lerp        float64 leaf_dtype_power    bias_in_denominator  native
``KERAS_COMPILED``  fma_lerp    float64 leaf_dtype_power    bias_in_denominator  native
``PADDLE``          ema         float32 float32_product     scale_direction      native
==================  ==========  ======= ==================  ===================  =============

With ``c = 1 - b1`` and ``d`` the denominator (``u`` or ``u + eps``):

* moment ``optax``: ``m = c * g + b1 * m`` with no rounding forced, so that under
  ``jax.jit`` XLA contracts exactly what it contracts in :func:`optax.adamax`;
  ``ema``: ``m = m * b1 + g * c`` with both products rounded;
  ``lerp``: ``m = m + (g - m) * c`` with the product rounded (Keras run eagerly);
  ``fma_lerp``: the same with the product and the sum rounded once, a fused multiply-add
  (Keras's step as ``model.fit`` compiles it, where XLA contracts the two);
  ``fused_lerp``: PyTorch's ``lerp_`` on the CPU, one fused multiply-add from the nearer
  end (``m + (g - m) * c`` for ``c < 0.5``, else ``g - (g - m) * (1 - c)``).
* ``1 - b1``: ``float64`` rounds the double ``1 - b1`` once (``0.1f`` for 0.9);
  ``float32`` subtracts in float32 (``1 - 0.9f = 0.100000024``). A traced ``b1`` (under
  ``optax.inject_hyperparams``) is float32 already, so ``float64`` then acts as ``float32``.
* bias correction ``bc = 1 - b1**t``: ``float32_power`` is a float32 power;
  ``leaf_dtype_power`` is the power computed in each leaf's dtype, ``b1`` and ``t``
  rounded to it first (Keras casts both to the variable's dtype; for float32 leaves the
  same as ``float32_power``);
  ``float64_power`` is a double power with ``lr / bc`` rounded to float32 once (MXNet and
  PyTorch do this on the host; see :mod:`adamax_optax._double_float`);
  ``float64_power_float32_divide`` rounds the double ``1 - b1**t`` to float32 and divides
  the float32 ``lr`` by it in float32 (PyTorch's single-tensor path with a tensor learning
  rate: ``lr / bias_correction`` is a float32 tensor divided by a Python float);
  ``float32_product``
  is a running float32 product ``p_t = p_{t-1} * b1`` kept in the state.
* step (``s`` the learning rate, ``s / bc`` rounded as the bias-correction mode says):
  ``optax`` is ``(-s) * ((m / bc) / d)``, optax's own expression with no rounding
  forced (the alias is then :func:`optax.adamax` bit for bit under ``jax.jit``);
  ``scale_direction`` is ``(m / d) * (s / bc)``;
  ``scale_moment`` is ``((s / bc) * m) / d``; ``bias_in_denominator`` is
  ``(s * m) / (bc * d)``.
* half (how float16 and bfloat16 leaves compute; float32 leaves ignore it): ``native``
  computes every operation in the leaf's dtype with every hyperparameter rounded to it
  (MXNet, Keras), as XLA computes 16-bit arithmetic: each operation in float32, its
  result rounded to 16 bits. ``float32_ops`` also rounds after every operation, but
  reads ``b2`` and the step size as float32 (PyTorch's CPU kernels compute in float32
  "opmath" with float32 scalars) and ``eps`` rounded to 16 bits (``add_(eps)`` gives the
  number the tensor's dtype first), and the update leaves the stage in float32 so that
  :func:`optax.apply_updates` rounds ``w + update`` once, as ``addcdiv_`` does;
  ``float32_ops_16bit_scalars`` is the same with ``b2`` rounded to 16 bits as well
  (PyTorch's ``foreach`` kernels). ``float32`` computes the whole step in float32
  from the upcast values, stores m and u back once and leaves the update in float32
  (MindSpore's ``ApplyAdaMax`` kernel). ``float32_step`` computes m and u natively
  and the step in float32 operations on them, each rounded to 16 bits, with the float32
  step size as it is (MindSpore's experimental Adamax: its Python-number
  hyperparameters take the parameter's dtype, its float32 learning-rate tensor does
  not); the update is 16-bit.
"""

import dataclasses
from typing import Literal

EpsPlacement = Literal["none", "denominator", "max_grad", "max_norm"]
EPS_PLACEMENTS: tuple[str, ...] = ("none", "denominator", "max_grad", "max_norm")

MomentUpdate = Literal["optax", "ema", "lerp", "fma_lerp", "fused_lerp"]
ComplementPrecision = Literal["float64", "float32"]
BiasCorrection = Literal[
  "float32_power",
  "float64_power",
  "float64_power_float32_divide",
  "float32_product",
  "leaf_dtype_power",
]
StepForm = Literal["optax", "scale_direction", "scale_moment", "bias_in_denominator"]
HalfPrecision = Literal[
  "native", "float32_ops", "float32_ops_16bit_scalars", "float32", "float32_step"
]


@dataclasses.dataclass(frozen=True)
class Arithmetic:
  """The rounding and operation order of one framework's Adamax step.

  Attributes:
    moment: how the first moment is updated: ``"optax"``, ``"ema"``, ``"lerp"``,
      ``"fma_lerp"`` or ``"fused_lerp"``.
    one_minus_b1: precision of ``1 - b1``: ``"float64"`` or ``"float32"``.
    bias_correction: ``"float32_power"``, ``"float64_power"``,
      ``"float64_power_float32_divide"``, ``"float32_product"`` or ``"leaf_dtype_power"``.
    step: where the learning rate and bias correction enter the update: ``"optax"``,
      ``"scale_direction"``, ``"scale_moment"`` or ``"bias_in_denominator"``.
    half: how float16 and bfloat16 leaves compute: ``"native"``, ``"float32_ops"``,
      ``"float32_ops_16bit_scalars"``, ``"float32"`` or ``"float32_step"``.
  """

  moment: MomentUpdate = "optax"
  one_minus_b1: ComplementPrecision = "float64"
  bias_correction: BiasCorrection = "float32_power"
  step: StepForm = "optax"
  half: HalfPrecision = "native"

  def __post_init__(self):
    for field, allowed in (
      ("moment", MomentUpdate),
      ("one_minus_b1", ComplementPrecision),
      ("bias_correction", BiasCorrection),
      ("step", StepForm),
      ("half", HalfPrecision),
    ):
      value = getattr(self, field)
      if value not in allowed.__args__:
        raise ValueError(f"Arithmetic.{field} must be one of {allowed.__args__}, got {value!r}.")


OPTAX = Arithmetic()
MXNET = Arithmetic(moment="ema", bias_correction="float64_power", step="scale_direction")
MXNET1 = Arithmetic(moment="ema", bias_correction="float64_power", step="scale_moment")
MINDSPORE = Arithmetic(
  moment="ema", one_minus_b1="float32", step="scale_moment", half="float32_step"
)
MINDSPORE_NN = Arithmetic(
  moment="ema",
  one_minus_b1="float32",
  bias_correction="float32_product",
  step="scale_direction",
  half="float32",
)
TORCH = Arithmetic(
  moment="fused_lerp", bias_correction="float64_power", step="scale_moment", half="float32_ops"
)
TORCH_FOREACH = dataclasses.replace(TORCH, half="float32_ops_16bit_scalars")
KERAS = Arithmetic(moment="lerp", bias_correction="leaf_dtype_power", step="bias_in_denominator")
KERAS_COMPILED = dataclasses.replace(KERAS, moment="fma_lerp")
# Paddle's CPU kernel has no 16-bit version (its presets refuse 16-bit params).
PADDLE = dataclasses.replace(MINDSPORE_NN, half="native")
