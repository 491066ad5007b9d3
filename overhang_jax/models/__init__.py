"""The science: each model as a pure JAX function of one parameter draw, declared as data
(``_schema``), registered by name (``_registry``), with its shipped priors and scenarios
(``priors/``, ``scenarios/``). No I/O, no knowledge of runs, files or figures."""
