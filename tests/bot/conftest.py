"""The Rasa bot's tests."""

# Run under Rasa's Python 3.10 venv by test_failsafe_runtime.py, never collected here.
collect_ignore = ["rasa_runtime"]
