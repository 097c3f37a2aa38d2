"""Letters as PDF, in the form of the province's letter of 18 October 2019.

:func:`compose` fills a :class:`Letter` of each kind (``invitation``, ``reminder``,
``training``, ``evaluation``, ``statement``) from the programme's state on a day; a house style
renders it. The built-in style is the ``letter`` exporter (:mod:`mma_core.builtin_plugins.letters`);
a province brings its own as a plugin that registers an exporter with a ``write_letter`` method.
"""

from mma_core.paperwork.letters.compose import compose, dutch_date, dutch_money
from mma_core.paperwork.letters.model import KINDS, Block, Letter, Letterhead

__all__ = ["KINDS", "Block", "Letter", "Letterhead", "compose", "dutch_date", "dutch_money"]
