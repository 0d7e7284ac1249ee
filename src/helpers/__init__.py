"""IPS transcript workbench: keyword, theme and co-occurrence analysis of interview transcripts.

One module per step (see DESIGN.md §3); notebooks call these functions and stay thin.
"""

__version__ = "0.1.0"
