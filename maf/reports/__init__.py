"""Figures for the Children's Trust Board, the 1-in-10 audit sample, outcomes and retention."""
