"""Priors: TOML files checked and turned into distributions (``_priors``, ``_distributions``),
the samplers that draw points of the unit cube (``_sampling``), and scenario names resolved
to files (``_scenarios``)."""
