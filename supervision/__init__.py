"""`make run`'s process supervision: supervisord and its two event listeners.

`supervisord.conf` names the programs; `logs` prefixes their output with their names and
says loudly when one exits; `health` restarts one that stops answering its health check.
"""
