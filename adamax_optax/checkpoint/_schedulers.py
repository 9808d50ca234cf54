"""What every wing's reader of a saved scheduler checks against a preset's own scheduler.

A framework saves a scheduler's position as the times it was stepped (``last_epoch``) and
its groups' current rates; a preset knows its cadence (``lr_scheduler_every``) and each
group's rate at any position (``rates_at``). :func:`check_scheduler_position` compares the
first, :func:`plateau_reductions` turns a plateau scheduler's rates back into the number
of reductions it made (what :func:`~adamax_optax.load_state`'s ``plateau=`` holds). Each
wing names its own file's entries in its messages.

Example: a ``StepLR`` saved after 26 updates, stepped once per epoch of 4 updates:

  >>> check_scheduler_position(6, "StepLR", 26, 4, "run.pt")
  >>> try:
  ...   check_scheduler_position(6, "StepLR", 26, 1, "run.pt")
  ... except ValueError as error:
  ...   print(error)
  run.pt: the StepLR was stepped 6 times (its last_epoch) in 26 updates, but this optimizer
  steps it once per 1 updates (26 times): build it with the script's cadence,
  lr_scheduler_every=<updates per scheduler.step()> (lr_scheduler_every=4 fits).
"""

from collections.abc import Sequence


def check_scheduler_position(last_epoch: int, kind: str, step: int, every: int, source) -> None:
  """A scheduler saved after ``step`` updates having been stepped ``last_epoch`` times
  must have been stepped once per ``every`` updates, as the preset steps it.

  Raises:
    ValueError: naming ``source``, both counts, and the cadence that fits when one does.
  """
  if last_epoch == step // every:
    return
  cadence = step // last_epoch if 0 < last_epoch <= step else None
  hint = (
    f" (lr_scheduler_every={cadence} fits)"
    if cadence is not None and step // cadence == last_epoch
    else ""
  )
  raise ValueError(
    f"{source}: the {kind} was stepped {last_epoch} times (its last_epoch) in {step} updates, "
    f"but this optimizer steps it once per {every} updates ({step // every} times): build "
    f"it with the script's cadence, lr_scheduler_every=<updates per scheduler.step()>{hint}."
  )


def plateau_reductions(opt, rates: Sequence[float]) -> int | None:
  """The reductions after which the plateau scheduler of the preset ``opt`` leaves its
  groups at ``rates`` (one per group, compared exactly with ``opt.rates_at``): the first,
  once every group's rate has stopped at its floor; None when no number of reductions
  does (the file's run started from other rates)."""
  rates = list(rates)
  current = opt.rates_at(0)
  for reductions in range(opt.lr_scheduler.reduction_limit() + 1):
    if current == rates:
      return reductions
    following = opt.rates_at(reductions + 1)
    if following == current:
      break
    current = following
  return None


__all__ = ["check_scheduler_position", "plateau_reductions"]
