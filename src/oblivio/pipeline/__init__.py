"""One run, the same for every command: resolve models → reference evaluations (cached) →
train → post-steps → write the run folder.

Every command is a short recipe on these stages (``api.unlearn``, ``api.calibrate``,
``api.compare``/``experiments.compare``, ``api.demo``), read top to bottom:

* :mod:`.models` — data fitted to the model's context; the base model (a directory, an
  object, or the embedded world's cached one) and its gold model; a finished run's config;
* :mod:`.references` — base and gold evaluated once, through the on-disk cache keyed by
  model + data + eval config (eval/cache.py);
* :mod:`.train` — the unlearning run (engine/unlearning.py) with checkpoint evaluation and
  selection (config ``control``);
* :mod:`.post` — the post-steps: a registered object (``registry.POST_STEPS``) with
  ``run(ctx) -> results`` for every name in the config's ``post_steps``;
* :mod:`.write` — results.json, summary.md, config.yaml, the model and report.html;
* :mod:`.resume` — what a run records so that ``--resume`` continues it.

Nothing here is imported by the package at start-up; each stage imports its engine lazily.
"""
