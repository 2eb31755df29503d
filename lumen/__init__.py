"""What every process of the assistant agrees on, in the standard library only.

Rasa's process runs on Python 3.10, the action and handoff servers on 3.11; all three
import this package (they run from the repository root), so it must stay importable on
both and need nothing but the standard library.
"""
