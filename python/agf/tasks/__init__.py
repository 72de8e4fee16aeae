"""Data of the paper's settings, each with its loss convention."""
from agf.tasks.diagonal import diagonal_2d, diagonal_5d, diagonal_regression
from agf.tasks.in_context import context_moment, in_context_regression
from agf.tasks.linear_regression import Moments, linear_regression
from agf.tasks.modular_addition import modular_addition, paper_template, spectrum_template
from agf.tasks.task import Task
from agf.tasks.teacher_student import teacher_student

__all__ = ["Task", "modular_addition", "paper_template", "spectrum_template", "diagonal_2d", "diagonal_5d",
           "diagonal_regression", "Moments", "linear_regression", "in_context_regression", "context_moment",
           "teacher_student"]
