"""Studies of results: summaries and paired comparisons (``_summaries``), sweeps over one
parameter (``_sweep``) and Sobol sensitivity (``_sensitivity``)."""
