"""Presentation: figures (``_figures``) and the self-contained HTML report (``_report``)."""
