"""Redraws the figure and the table of the digits page (``docs/digits.md``).

Runs ``examples/train_digits.py --compare``: every optimizer with its framework's defaults,
30 epochs, seed 0, side by side. Writes the loss curves to
``docs/figures/digits_loss_curves.png`` and the table the example prints, under a line saying
when, on what machine and with which versions it was made, to
``docs/figures/digits_table.md``, which the page includes. The run takes one to two minutes
on two CPU cores, so the site's build does not run it: commit both files after a rerun.
Run from the repository root:

  python docs/figures/digits.py
"""

import contextlib
import datetime
import io
import os
import pathlib
import platform
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIGURES = ROOT / "docs" / "figures"
FIGURE = FIGURES / "digits_loss_curves.png"
TABLE = FIGURES / "digits_table.md"
COMMAND = "python docs/figures/digits.py"


def cpu_name() -> str:
  """The CPU's model name as Linux reports it, else what Python knows."""
  cpuinfo = pathlib.Path("/proc/cpuinfo")
  if cpuinfo.exists():
    for line in cpuinfo.read_text().splitlines():
      if line.startswith("model name"):
        return line.split(":", 1)[1].strip()
  return platform.processor() or platform.machine()


def provenance() -> str:
  import jax
  import optax

  date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
  return (
    f"Made by `{COMMAND}` (`examples/train_digits.py --compare`, 30 epochs, seed 0) on "
    f"{date}: {cpu_name()}, {os.cpu_count()} cores, {jax.default_backend().upper()} only, "
    f"jax {jax.__version__}, optax {optax.__version__}, Python {platform.python_version()}."
  )


def main() -> None:
  sys.path.insert(0, str(ROOT))
  from examples import train_digits

  printed = io.StringIO()
  with contextlib.redirect_stdout(printed):
    train_digits.main(["--compare", "--no-progress", "--plot", str(FIGURE)])
  lines = printed.getvalue().splitlines()
  table = [line for line in lines if line.startswith("|")]
  # The notes under the table, each a paragraph of its own (a line right under a Markdown
  # table would be read as one more row); not the line naming the PNG's path.
  notes = [
    line
    for line in lines
    if line and not line.startswith("|") and not line.startswith("loss curves written to")
  ]
  TABLE.write_text("\n\n".join([provenance(), "\n".join(table), *notes]) + "\n")
  print(
    f"wrote {FIGURE.relative_to(ROOT)} ({FIGURE.stat().st_size / 1024:.0f} kB) and "
    f"{TABLE.relative_to(ROOT)}"
  )


if __name__ == "__main__":
  main()
