"""Measuring the matcher: CLINC150 evaluation, cross-validation, intent evaluation and the overlap check."""
