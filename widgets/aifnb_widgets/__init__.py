"""Bias assessment and teaching widgets: a pure-Python engine under a thin ipywidgets layer."""
