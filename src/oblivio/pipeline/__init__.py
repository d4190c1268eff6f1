"""One run, the same for every command: resolve models → reference evaluations (cached) →
train → post-steps → write the run folder.

Every command is a short recipe on these stages (``api.unlearn``, ``api.calibrate``,
``api.compare``/``experiments.compare``, ``api.demo``, ``api.reveal``), read top to bottom:

* :mod:`.models` — the one model loader, ``ModelSource``: the base model (a directory, a GGUF
  file or registered name converted once, an object — a grid's copied, a single run's lent —
  or the embedded world's cached one) and its gold model, a fresh copy per load; data fitted
  to the model's context; a finished run's config;
* :mod:`.references` — base and gold evaluated once, through the on-disk cache keyed by
  model + data + eval config (eval/cache.py);
* :mod:`.train` — the unlearning run (engine/unlearning.py) with checkpoint evaluation and
  selection (config ``control``);
* :mod:`.post` — the post-steps: a registered object (``registry.POST_STEPS``) with
  ``run(ctx) -> results`` for every name in the config's ``post_steps``;
* :mod:`.write` — results.json, summary.md, config.yaml, the model and report.html;
* :mod:`.resume` — what a run records so that ``--resume`` continues it.
* :mod:`.grid` — runs of runs: a list of cells (name, config, role ``tune``/``report``) run as
  run folders by one resumable runner (``run_grid``, ``run_cell``), under the benches and
  ``compare``.

Nothing here is imported by the package at start-up; each stage imports its engine lazily.
"""
