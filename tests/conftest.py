import hypothesis
import started_early

hypothesis.settings.register_profile("ci", max_examples=60, deadline=None)
hypothesis.settings.load_profile("ci")

# Scripts that tests run in processes of their own (their jax setup is per process), and
# the golden-data generators, which import the real frameworks and run outside the suite.
collect_ignore_glob = ["scripts/*.py", "golden/generate/*"]


def pytest_collection_finish(session):
  # The fresh processes of the selected tests start now, beside the in-process tests.
  if not session.config.option.collectonly:
    started_early.queue_marked(session.items)


def pytest_sessionfinish(session):
  started_early.drop_unstarted()
