"""``mindspore.nn``'s mirror: ``AdaMax`` (:func:`mindspore_nn_adamax`), the
``LearningRateSchedule`` cells and the dynamic learning-rate list builders."""

from adamax_optax.mindspore.nn import dynamic_lr, learning_rate_schedule
from adamax_optax.mindspore.nn.ada_max import mindspore_nn_adamax
from adamax_optax.mindspore.nn.dynamic_lr import (
  cosine_decay_lr,
  exponential_decay_lr,
  inverse_decay_lr,
  natural_exp_decay_lr,
  piecewise_constant_lr,
  polynomial_decay_lr,
  warmup_lr,
)
from adamax_optax.mindspore.nn.learning_rate_schedule import (
  CosineDecayLR,
  ExponentialDecayLR,
  InverseDecayLR,
  LearningRateSchedule,
  NaturalExpDecayLR,
  PolynomialDecayLR,
  WarmUpLR,
)

AdaMax = mindspore_nn_adamax

__all__ = [
  "AdaMax",
  "CosineDecayLR",
  "ExponentialDecayLR",
  "InverseDecayLR",
  "LearningRateSchedule",
  "NaturalExpDecayLR",
  "PolynomialDecayLR",
  "WarmUpLR",
  "cosine_decay_lr",
  "dynamic_lr",
  "exponential_decay_lr",
  "inverse_decay_lr",
  "learning_rate_schedule",
  "mindspore_nn_adamax",
  "natural_exp_decay_lr",
  "piecewise_constant_lr",
  "polynomial_decay_lr",
  "warmup_lr",
]
