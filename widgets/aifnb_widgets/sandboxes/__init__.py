"""Logic behind the sandbox notebooks, kept here so every notebook reuses the same tested code.

Pure modules (metrics, generators, rules, scoring, exporters) never import ipywidgets; the thin
front-ends live in :mod:`aifnb_widgets.sandboxes.ui` so the logic also runs headless under papermill.
"""
