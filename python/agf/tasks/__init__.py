"""Data of the paper's settings, each with its loss convention."""
from agf.tasks.modular_addition import modular_addition, paper_template
from agf.tasks.task import Task

__all__ = ["Task", "modular_addition", "paper_template"]
