import subprocess
import sys

ENGINE = [
    "aifnb_widgets.bias.cli",
    "aifnb_widgets.bias.report",
    "aifnb_widgets.bias.results",
    "aifnb_widgets.bias.runner",
    "aifnb_widgets.bias.slurm",
    "aifnb_widgets.backends.factory",
    "aifnb_widgets.backends.hf",
    "aifnb_widgets.backends.openai_compat",
    "aifnb_widgets.models.tiny",
    "aifnb_widgets.cli",
]


def test_engine_never_imports_ipywidgets():
    """Engine never imports ipywidgets."""
    code = f"import sys\nfor m in {ENGINE!r}: __import__(m)\nassert 'ipywidgets' not in sys.modules, 'ipywidgets imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
