"""Sphinx configuration: the API reference from the docstrings, and the guides in Markdown.

The build reads only the repository (no intersphinx inventory is fetched), so optax's names
are linked with plain URLs through ``extlinks``. Build with warnings as errors::

  python -m sphinx -W -b html docs docs/_build/html
"""

import pathlib
import re
import subprocess
import sys

from docutils import nodes

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The repository's own package, not an installed copy, is the one documented.
sys.path.insert(0, str(ROOT))

import adamax_optax  # noqa: E402

project = "adamax_optax"
author = "adamax_optax maintainers"
copyright = "adamax_optax maintainers"
release = adamax_optax.__version__
version = release

extensions = [
  "myst_parser",
  "sphinx.ext.autodoc",
  "sphinx.ext.autosummary",
  "sphinx.ext.extlinks",
  "sphinx.ext.mathjax",
  "sphinx.ext.napoleon",
  "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# figures/*.md: what docs/figures/digits.py writes, included by digits.md (not a page).
exclude_patterns = ["_build", "figures/*.py", "figures/*.md"]
root_doc = "index"

# Google-style docstrings throughout the package.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
# Signatures show the type hints; the descriptions stay as the docstrings write them.
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autosummary_generate = False

# optax has no inventory the offline build could read, so its names link to optax's own search
# page for that name: in the guides with :optax:`optax.chain`, in the docstrings through
# ``link_optax_names`` below.
OPTAX_SEARCH = "https://optax.readthedocs.io/en/latest/search.html?q=%s"
extlinks = {"optax": (OPTAX_SEARCH, "%s")}

myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"adamax_optax {release}"
html_static_path = []


def skip_named_tuple_fields(app, what, name, obj, skip, options):
  """NamedTuple fields are described in their class's ``Attributes:`` section already."""
  if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
    return True
  return None


def locate(dotted_name):
  """The object a dotted name reaches from the package, or None."""
  parts = dotted_name.split(".")
  if parts[0] != "adamax_optax":
    return None
  obj = adamax_optax
  for part in parts[1:]:
    try:
      obj = getattr(obj, part)
    except AttributeError:
      return None
  return obj


def documented_names_by_object(env):
  """Each documented object (by id) with the first name the reference documents it under."""
  names = {}
  for name in sorted(env.get_domain("py").objects):
    obj = locate(name)
    if obj is not None:
      names.setdefault(id(obj), name)
  return names


def resolve_reexported_names(app, env, node, contnode):
  """Link a name written where it is re-exported (``adamax_optax.adamax``, or ``adamax``
  inside the package docstring) to the one place the reference documents that object."""
  if node.get("refdomain") != "py":
    return None
  target = node["reftarget"]
  if target.startswith("optax."):
    return link_optax_name(target, contnode)
  # The name as written, then as seen from the module the reference stands in and from each
  # package above it (``scale_by_adamax`` in ``adamax_optax.alias`` is ``adamax_optax``'s).
  module_parts = (node.get("py:module") or "").split(".")
  candidates = [target] + [
    ".".join([*module_parts[:length], target]) for length in range(len(module_parts), 0, -1)
  ]
  if not hasattr(env, "adamax_optax_documented"):
    env.adamax_optax_documented = documented_names_by_object(env)
  for candidate in candidates:
    obj = locate(candidate)
    documented = env.adamax_optax_documented.get(id(obj)) if obj is not None else None
    if documented is not None:
      py_domain = env.get_domain("py")
      return py_domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], documented, node, contnode
      )
  return None


def link_optax_name(name, contnode):
  reference = nodes.reference("", "", internal=False, refuri=OPTAX_SEARCH % name)
  reference += contnode
  return reference


# Figures are drawn from the package at every build (a few seconds), never stored.
FIGURE_SCRIPTS = {"eps_placements.py": "eps_placements.png"}


def draw_figures(app):
  figures = pathlib.Path(app.srcdir) / "figures"
  for script, image in FIGURE_SCRIPTS.items():
    subprocess.run(
      [sys.executable, str(figures / script), str(figures / "generated" / image)],
      check=True,
      cwd=ROOT,
    )


# A Markdown link to a repository file (not a web address, not an anchor).
REPOSITORY_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:|#)[^)]+\)")


def unlink_repository_files(app, relative_path, parent_docname, content):
  """Files included from outside docs/ (the benchmark results file) link to repository
  files, which are not pages of the site: keep each link's text, drop the link."""
  if relative_path.parts[0] == "..":
    content[0] = REPOSITORY_LINK.sub(r"\1", content[0])


def setup(app):
  app.connect("include-read", unlink_repository_files)
  app.connect("builder-inited", draw_figures)
  app.connect("autodoc-skip-member", skip_named_tuple_fields)
  app.connect("missing-reference", resolve_reexported_names)
