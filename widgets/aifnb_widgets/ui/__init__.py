"""ipywidgets front ends: thin views over the engine, with their state kept in widget-free controllers."""
