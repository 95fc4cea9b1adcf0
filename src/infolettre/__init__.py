"""infolettre: the monthly bulletin pipeline of a regional social-development network.

gather → organize → review → render → deliver; see ``pipeline`` for the table of contents.
"""

__version__ = "0.1.0"
